import type { webApi } from "@slack/bolt";
import type { MessageImage } from "../../message/message.ts";

/**
 * Uploads a chart with files.uploadV2 (get URL → upload → complete) into the channel, in the
 * thread when one is given. Errors reach the caller: an alert and a reply treat them differently.
 */
export async function uploadChart(
  client: webApi.WebClient,
  channelId: string,
  threadTs: string | undefined,
  image: MessageImage,
): Promise<void> {
  await client.files.uploadV2({
    channel_id: channelId,
    file: image.png,
    filename: image.name,
    title: image.name,
    alt_text: image.alt.slice(0, 1000),
    ...(threadTs ? { thread_ts: threadTs } : {}),
  } as webApi.FilesUploadV2Arguments);
}
