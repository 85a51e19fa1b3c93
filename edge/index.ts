import { createEdgeApp } from './app.ts';

export { RateLimiter } from './middleware/rate-limit/limiter.ts';

/** The Worker's entry: every request, and every Stripe webhook, enters here. */
export default createEdgeApp();
