/**
 * Bounds the edge and the origin must agree on. Each end checks them on its own (the origin
 * trusts nothing it was not given signed), so a different number at one end would refuse at
 * the origin what the edge let through, or the reverse.
 */

/**
 * The largest Stripe event body, in bytes: Stripe's events outgrow the API's own body limit
 * (`BODY_LIMIT_BYTES`), yet are bounded too.
 */
export const stripeEventLimitBytes = 1024 * 1024;
