// Plain data the Vitest tests build their caches from (tests only; nothing imports it at run
// time).

import type { QueueItem, RequestState } from "./bindings";

/** A request `id` ("prompt {id}" by "U{id}") in `state` at `position`. */
export function item(id: number, state: RequestState, position: number, updatedAtMs = 1, createdAtMs = 0): QueueItem {
  return {
    id,
    userLogin: `u${id}`,
    displayName: `U${id}`,
    prompt: `prompt ${id}`,
    state,
    reason: null,
    position,
    createdAtMs,
    updatedAtMs,
    filePath: null,
    attempts: 0,
    generationMs: null,
  };
}
