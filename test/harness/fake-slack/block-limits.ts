/**
 * The Block Kit and message limits Slack enforces, checked by the fake on every message it
 * accepts, so a renderer that overflows fails a test the way it would fail in a workspace.
 * Returns the Slack error code and the detail Slack puts in `response_metadata.messages`.
 */
export interface LimitViolation {
  error: "invalid_blocks" | "msg_too_long" | "no_text";
  detail: string;
}

const MAX_BLOCKS = 50;
const MAX_TEXT = 40_000;
const MAX_SECTION_TEXT = 3000;
const MAX_FIELDS = 10;
const MAX_FIELD_TEXT = 2000;
const MAX_HEADER_TEXT = 150;
const MAX_CONTEXT_ELEMENTS = 10;
const MAX_ACTION_ELEMENTS = 25;
const MAX_BUTTON_TEXT = 75;
const MAX_ACTION_ID = 255;
const MAX_BUTTON_VALUE = 2000;

type Json = Record<string, unknown>;

function textOf(value: unknown): string {
  return typeof value === "object" && value !== null && typeof (value as Json).text === "string"
    ? ((value as Json).text as string)
    : "";
}

/** Checks `text` and `blocks` of chat.postMessage / chat.update / chat.postEphemeral / response_url. */
export function checkMessageLimits(text: unknown, blocks: unknown): LimitViolation | undefined {
  if (typeof text === "string" && text.length > MAX_TEXT) {
    return { error: "msg_too_long", detail: `text is ${text.length} characters (max ${MAX_TEXT})` };
  }
  if (blocks === undefined) {
    return typeof text === "string" && text.length > 0
      ? undefined
      : { error: "no_text", detail: "neither text nor blocks" };
  }
  if (!Array.isArray(blocks)) return { error: "invalid_blocks", detail: "blocks is not an array" };
  if (blocks.length > MAX_BLOCKS) {
    return { error: "invalid_blocks", detail: `${blocks.length} blocks (max ${MAX_BLOCKS})` };
  }
  for (const [index, block] of blocks.entries()) {
    const problem = checkBlock(block as Json);
    if (problem) return { error: "invalid_blocks", detail: `[${index}] ${problem}` };
  }
  return undefined;
}

function checkBlock(block: Json): string | undefined {
  switch (block.type) {
    case "header": {
      const t = textOf(block.text);
      if (!t) return "header without text";
      if ((block.text as Json).type !== "plain_text") return "header text must be plain_text";
      return t.length > MAX_HEADER_TEXT
        ? `header text ${t.length} > ${MAX_HEADER_TEXT}`
        : undefined;
    }
    case "section": {
      const t = textOf(block.text);
      const fields = (block.fields as Json[] | undefined) ?? [];
      if (!t && fields.length === 0) return "section needs text or fields";
      if (t.length > MAX_SECTION_TEXT) return `section text ${t.length} > ${MAX_SECTION_TEXT}`;
      if (fields.length > MAX_FIELDS) return `${fields.length} fields > ${MAX_FIELDS}`;
      for (const field of fields) {
        const ft = textOf(field);
        if (!ft) return "empty field";
        if (ft.length > MAX_FIELD_TEXT) return `field text ${ft.length} > ${MAX_FIELD_TEXT}`;
      }
      return undefined;
    }
    case "context": {
      const elements = (block.elements as Json[] | undefined) ?? [];
      if (elements.length === 0 || elements.length > MAX_CONTEXT_ELEMENTS) {
        return `context has ${elements.length} elements (1..${MAX_CONTEXT_ELEMENTS})`;
      }
      for (const element of elements) {
        if (textOf(element).length > MAX_SECTION_TEXT) return "context text too long";
      }
      return undefined;
    }
    case "actions": {
      const elements = (block.elements as Json[] | undefined) ?? [];
      if (elements.length === 0 || elements.length > MAX_ACTION_ELEMENTS) {
        return `actions has ${elements.length} elements (1..${MAX_ACTION_ELEMENTS})`;
      }
      for (const element of elements) {
        if (element.type !== "button") continue;
        if (textOf(element.text).length > MAX_BUTTON_TEXT) return "button text too long";
        if (String(element.action_id ?? "").length > MAX_ACTION_ID) return "action_id too long";
        if (String(element.value ?? "").length > MAX_BUTTON_VALUE) return "button value too long";
      }
      return undefined;
    }
    case "divider":
    case "image":
    case "rich_text":
      return undefined;
    default:
      return `unknown block type ${String(block.type)}`;
  }
}
