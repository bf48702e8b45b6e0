import type { ChartRequest, Message, MessageImage } from "../message/message.ts";

/**
 * Turns a message's chart requests into images just before delivery (the sender's `prepare`).
 * A chart that cannot be drawn is left out; the message's text goes out regardless.
 */
export function chartDrawer(
  draw: (request: ChartRequest) => Promise<MessageImage | null>,
): (message: Message) => Promise<Message> {
  return async (message) => {
    const { charts = [], ...rest } = message;
    const drawn = await Promise.all(charts.map((request) => draw(request).catch(() => null)));
    const images = drawn.filter((image) => image !== null);
    return images.length ? { ...rest, images: [...(rest.images ?? []), ...images] } : rest;
  };
}
