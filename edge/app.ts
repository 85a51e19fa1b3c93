import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { endpoints } from '../shared/api/endpoints.ts';
import { ApiError } from '../shared/errors.ts';
import { stripeEventLimitBytes } from '../shared/limits.ts';
import { isUiPage } from '../shared/ui-pages.ts';
import { readConfig } from './config.ts';
import type { EdgeEnv } from './context.ts';
import { errorResponse, handleError } from './errors.ts';
import { bodyLimit } from './middleware/body-limit/index.ts';
import { cors } from './middleware/cors/index.ts';
import { rateLimit } from './middleware/rate-limit/index.ts';
import { securityHeaders } from './middleware/security-headers/index.ts';
import { forwardToOrigin } from './routes/forward.ts';
import { registerHealth } from './routes/health.ts';
import { registerOutputRoutes } from './routes/outputs.ts';
import { registerStripeWebhook } from './routes/stripe-webhook.ts';
import { registerWebSocket } from './routes/websocket.ts';

/**
 * The edge Worker: request id and configuration check, the WebSocket pass-through, then
 * security headers, CORS, body limits, rate limits, Stripe verification, the cluster's
 * health and signed forwarding to the origins. Every middleware is built here, once; what
 * comes from the bindings (CORS origins, body limit, budgets) each reads per request from
 * the validated config on `c`.
 */
export function createEdgeApp(): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();

  // The id is the edge's own, never the client's `x-request-id`: signed, it names the request
  // in the origin's logs. No header name, so none is read, and none is set here: a header
  // added to the WebSocket's 101 breaks it (securityHeaders and errorResponse send the id).
  app.use(requestId({ headerName: '' }));
  app.use(async function configure(c, next) {
    c.set('clientIp', c.req.header('cf-connecting-ip') ?? '0.0.0.0');
    const result = readConfig(c.env);
    if (!result.ok) {
      console.error(JSON.stringify({ msg: 'edge misconfigured', problems: result.problems }));
      return errorResponse(
        c,
        new ApiError('misconfigured', `The edge is misconfigured: ${result.problems.join('; ')}`),
      );
    }
    c.set('config', result.config);
    await next();
  });

  registerWebSocket(app);

  app.use(securityHeaders());
  app.use(cors({ allowed: (c) => c.get('config').CORS_ORIGINS }));

  app.get('/healthz', (c) => c.json({ status: 'ok', service: 'edge' }));

  registerOutputRoutes(app);

  app.use('/v1/webhooks/stripe', bodyLimit({ maxSize: stripeEventLimitBytes }));
  registerStripeWebhook(app);

  // An upload has its own limit; every other API body BODY_LIMIT_BYTES.
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: (c) =>
        c.req.path === endpoints.uploadFile.path
          ? c.get('config').UPLOAD_LIMIT_BYTES
          : c.get('config').BODY_LIMIT_BYTES,
    }),
  );
  // Health probes and Stripe's retries must never be turned away by a client budget.
  app.use('/v1/*', rateLimit({ exempt: ['/v1/health', '/v1/webhooks/stripe'] }));
  registerHealth(app);
  app.all('/v1/*', forwardToOrigin);

  app.notFound(async (c) => {
    if (c.env.ASSETS && (c.req.method === 'GET' || c.req.method === 'HEAD')) {
      // A page of the UI (`/dashboard`) is its index.html; the page reads its own path.
      const url = new URL(c.req.url);
      if (isUiPage(url.pathname)) url.pathname = '/';
      const asset = await c.env.ASSETS.fetch(new Request(url, c.req.raw));
      return new Response(asset.body, asset);
    }
    return errorResponse(
      c,
      new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}.`),
    );
  });
  app.onError(handleError);
  return app;
}
