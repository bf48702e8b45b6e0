/** Discord's documented message limits; exceeding any of them gets a 400 Invalid Form Body. */
export const DISCORD_LIMITS = {
  content: 2000,
  embedsPerMessage: 10,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  /** Title, description, field names and values, footer and author of all embeds together. */
  embedTotal: 6000,
  actionRows: 5,
  buttonsPerRow: 5,
  customId: 100,
  buttonLabel: 80,
  autocompleteChoices: 25,
  choiceText: 100,
  commandDescription: 100,
  allowedMentionIds: 100,
} as const;

/** Appended where text was cut, so a reader knows something is missing. */
export const CUT_MARKER = "… (truncated)";

/** `text` cut to `max` characters, ending with the marker when anything was removed. */
export function truncate(text: string, max: number, marker = CUT_MARKER): string {
  if (text.length <= max) return text;
  if (max <= marker.length) return text.slice(0, Math.max(0, max));
  return text.slice(0, max - marker.length) + marker;
}
