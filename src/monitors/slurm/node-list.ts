/**
 * Expands a Slurm host list (`n[1-2]`, `gpu[01-03,07],login1`, `a[1-2]b[3-4]`) into names,
 * keeping zero padding. Empty text gives no nodes.
 */
export function expandNodeList(text: string): string[] {
  const out: string[] = [];
  for (const item of splitTopLevel(text.trim())) {
    if (item !== "") out.push(...expandOne(item));
  }
  return out;
}

function splitTopLevel(text: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of text) {
    if (ch === "[") depth++;
    if (ch === "]") depth--;
    if (ch === "," && depth === 0) {
      items.push(current);
      current = "";
    } else current += ch;
  }
  items.push(current);
  return items;
}

function expandOne(item: string): string[] {
  const open = item.indexOf("[");
  if (open < 0) return [item];
  const close = item.indexOf("]", open);
  if (close < 0) return [item];
  const prefix = item.slice(0, open);
  const rest = expandOne(item.slice(close + 1));
  const out: string[] = [];
  for (const range of item.slice(open + 1, close).split(",")) {
    const [from = "", to = from] = range.split("-");
    const width = from.length;
    const a = Number(from);
    const b = Number(to);
    if (!Number.isInteger(a) || !Number.isInteger(b) || b < a || b - a > 10_000) {
      out.push(...rest.map((r) => `${prefix}${range}${r}`));
      continue;
    }
    for (let n = a; n <= b; n++) {
      const name = `${prefix}${String(n).padStart(width, "0")}`;
      out.push(...rest.map((r) => `${name}${r}`));
    }
  }
  return out;
}
