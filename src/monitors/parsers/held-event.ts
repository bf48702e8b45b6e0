import type { ClassifiedEvent } from "../../model/monitoring.ts";

/**
 * A single-line event held back for a few lines, so that its repeats (every rank reporting the
 * same NCCL timeout) and the traceback that may follow fold into it instead of adding events.
 */
export interface HeldEvent {
  event: ClassifiedEvent;
  lastLine: number;
  count: number;
}

/** The event a held one is emitted as; repeats are counted in its detail. */
export function heldEvent(held: HeldEvent): ClassifiedEvent {
  if (held.count === 1) return held.event;
  return { ...held.event, detail: { ...held.event.detail, repeats: held.count } };
}

/** Same kind, and no pid or Xid code that tells them apart. */
export function sameFailure(a: ClassifiedEvent, b: ClassifiedEvent): boolean {
  if (a.kind !== b.kind) return false;
  for (const key of ["pid", "xid"]) {
    const va = a.detail?.[key];
    const vb = b.detail?.[key];
    if (key === "xid" ? va !== vb : va !== undefined && vb !== undefined && va !== vb) return false;
  }
  return true;
}

/** How many facts an event's detail holds; the richer of two repeats is the one kept. */
export function detailSize(event: ClassifiedEvent): number {
  return Object.keys(event.detail ?? {}).length;
}
