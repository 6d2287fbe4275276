// The ranges and defaults the settings forms check against: the core's own (src/api/limits.rs,
// `UiLimits`, built from the constants its validation uses), exported to the bindings as
// `UI_LIMITS`. Nothing here is copied by hand.

import { UI_LIMITS } from "../../bindings";

/** What the forms read. */
export const LIMITS = UI_LIMITS;

/** Counts (messages) have no upper limit of their own in the core but a u32's. */
export const U32_MAX = 4_294_967_295;
