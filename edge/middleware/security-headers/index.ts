import type { MiddlewareHandler } from 'hono';
import type { EdgeEnv } from '../../context.ts';

/**
 * Security headers on every answer: HSTS, nosniff, a strict referrer policy, framing
 * denied, and a Content-Security-Policy that lets the UI load only its own scripts and
 * open a WebSocket only to its own host. Also sets the edge's `x-request-id`.
 *
 * @example
 * app.use(securityHeaders());
 */
export function securityHeaders(): MiddlewareHandler<EdgeEnv> {
  return async function securityHeaders(c, next) {
    await next();
    const host = new URL(c.req.url).host;
    const csp = [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data: blob:",
      "media-src 'self' blob:",
      `connect-src 'self' wss://${host} ws://${host}`,
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; ');
    c.header('strict-transport-security', 'max-age=63072000; includeSubDomains');
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'strict-origin-when-cross-origin');
    c.header('x-frame-options', 'DENY');
    c.header('cross-origin-opener-policy', 'same-origin');
    c.header('content-security-policy', csp);
    c.header('x-request-id', c.get('requestId'));
  };
}
