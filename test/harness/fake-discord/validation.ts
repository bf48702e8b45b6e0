/**
 * The limits Discord enforces on message and command bodies. The fake answers 400 with code
 * 50035 (Invalid Form Body) where Discord would, so a renderer that overflows fails its tests.
 */

interface EmbedLike {
  title?: string;
  description?: string;
  fields?: { name?: string; value?: string }[];
  footer?: { text?: string };
  author?: { name?: string };
}

/** Problems with a message body; empty when Discord would accept it. */
export function messageProblems(body: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const content = typeof body.content === "string" ? body.content : "";
  if (content.length > 2000) problems.push(`content: ${content.length} > 2000 characters`);
  const embeds = (Array.isArray(body.embeds) ? body.embeds : []) as EmbedLike[];
  if (embeds.length > 10) problems.push(`embeds: ${embeds.length} > 10`);
  let total = 0;
  embeds.forEach((embed, i) => {
    const check = (what: string, text: string | undefined, max: number): void => {
      const length = text?.length ?? 0;
      total += length;
      if (length > max) problems.push(`embeds[${i}].${what}: ${length} > ${max}`);
    };
    check("title", embed.title, 256);
    check("description", embed.description, 4096);
    check("footer.text", embed.footer?.text, 2048);
    check("author.name", embed.author?.name, 256);
    const fields = embed.fields ?? [];
    if (fields.length > 25) problems.push(`embeds[${i}].fields: ${fields.length} > 25`);
    fields.forEach((field, j) => {
      if (!field.name || !field.value) problems.push(`embeds[${i}].fields[${j}]: empty`);
      check(`fields[${j}].name`, field.name, 256);
      check(`fields[${j}].value`, field.value, 1024);
    });
  });
  if (total > 6000) problems.push(`embeds: ${total} characters in total > 6000`);
  const rows = (Array.isArray(body.components) ? body.components : []) as {
    components?: { custom_id?: string; label?: string }[];
  }[];
  if (rows.length > 5) problems.push(`components: ${rows.length} rows > 5`);
  rows.forEach((row, i) => {
    const buttons = row.components ?? [];
    if (buttons.length < 1 || buttons.length > 5) {
      problems.push(`components[${i}]: ${buttons.length} buttons (1 to 5)`);
    }
    for (const button of buttons) {
      if ((button.custom_id?.length ?? 0) > 100) problems.push("custom_id longer than 100");
      if ((button.label?.length ?? 0) > 80) problems.push("label longer than 80");
    }
  });
  const nonce = body.nonce;
  if (typeof nonce === "string" && nonce.length > 25) problems.push("nonce longer than 25");
  return problems;
}

interface OptionLike {
  type?: number;
  name?: string;
  description?: string;
  required?: boolean;
  options?: OptionLike[];
  choices?: { name?: string; value?: unknown }[];
  autocomplete?: boolean;
  min_value?: number;
  max_value?: number;
}

const NAME = /^[-_\p{Ll}\p{N}]{1,32}$/u;

function optionProblems(path: string, option: OptionLike, problems: string[]): void {
  if (!option.name || !NAME.test(option.name)) problems.push(`${path}.name: '${option.name}'`);
  const description = option.description ?? "";
  if (description.length < 1 || description.length > 100) {
    problems.push(`${path}.description: ${description.length} characters (1 to 100)`);
  }
  const children = option.options ?? [];
  if (children.length > 25) problems.push(`${path}.options: ${children.length} > 25`);
  let optionalSeen = false;
  children.forEach((child, i) => {
    if (child.required && optionalSeen) {
      problems.push(`${path}.options[${i}]: required options must come before optional ones`);
    }
    if (!child.required) optionalSeen = true;
    optionProblems(`${path}.options[${i}]`, child, problems);
  });
  if (option.choices && option.choices.length > 25) problems.push(`${path}.choices: > 25`);
  if (option.choices?.length && option.autocomplete) {
    problems.push(`${path}: autocomplete cannot be set with choices`);
  }
  if ((option.min_value !== undefined || option.max_value !== undefined) && option.type !== 4) {
    if (option.type !== 10) problems.push(`${path}: min/max only on integer or number options`);
  }
}

/** Problems with one application command body for a bulk overwrite. */
export function commandProblems(command: OptionLike & { type?: number }, i: number): string[] {
  const problems: string[] = [];
  optionProblems(`[${i}]`, command, problems);
  return problems;
}
