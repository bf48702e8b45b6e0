import type { RawFile } from "discord.js";
import { EPHEMERAL_FLAG, type RenderedMessage } from "./render-message.ts";

/**
 * Options for discord.js interaction methods (reply, update, editReply, followUp). `flags` only
 * where the method accepts it; an edit cannot change whether a message is ephemeral.
 */
export function interactionOptions(rendered: RenderedMessage, kind: "send" | "edit") {
  return {
    content: rendered.content,
    embeds: rendered.embeds,
    components: rendered.components,
    // On an edit, an empty list removes the files of the message being replaced.
    ...(kind === "edit" || rendered.files.length > 0
      ? {
          files: rendered.files.map((f) => ({
            attachment: f.data,
            name: f.name,
            description: f.description,
          })),
        }
      : {}),
    ...(kind === "edit" ? { attachments: [] } : {}),
    allowedMentions: rendered.allowedMentions,
    ...(kind === "send" && rendered.ephemeral ? { flags: EPHEMERAL_FLAG } : {}),
  };
}

/** A raw REST body and files for `POST /channels/{id}/messages`. */
export function channelMessageBody(
  rendered: RenderedMessage,
  nonce?: string,
): { body: Record<string, unknown>; files: RawFile[] } {
  return {
    body: {
      content: rendered.content,
      embeds: rendered.embeds,
      components: rendered.components,
      allowed_mentions: {
        parse: [],
        users: rendered.allowedMentions.users,
        roles: rendered.allowedMentions.roles,
      },
      attachments: rendered.files.map((f, i) => ({
        id: i,
        filename: f.name,
        description: f.description,
      })),
      // Discord answers a repeated nonce with the message it already created: retried
      // deliveries land once.
      ...(nonce ? { nonce, enforce_nonce: true } : {}),
    },
    files: rendered.files.map((f) => ({ name: f.name, data: f.data, contentType: "image/png" })),
  };
}
