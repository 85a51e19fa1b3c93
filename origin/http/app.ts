import { OpenAPIHono } from '@hono/zod-openapi';
import { requestId } from 'hono/request-id';
import { stripeEventLimitBytes } from '../../shared/limits.ts';
import type { EdgeTrust } from '../auth/edge-trust.ts';
import type { Services } from '../services.ts';
import type { App, AppEnv } from './context.ts';
import { handleError, handleNotFound } from './errors.ts';
import { durableAnswers } from './middleware/durable-answers.ts';
import { limitBody } from './middleware/limit-body.ts';
import { observeRequests } from './middleware/observe-requests.ts';
import { requireEdgeSignature, screenEdgeSignature } from './middleware/require-edge-signature.ts';
import { registerApiKeys } from './routes/api-keys.ts';
import { registerAuth } from './routes/auth.ts';
import { registerBilling } from './routes/billing.ts';
import { registerFiles } from './routes/files.ts';
import { registerHealth } from './routes/health.ts';
import { registerJobs } from './routes/jobs.ts';
import { registerMe } from './routes/me.ts';
import { registerModels } from './routes/models.ts';
import { registerOpenApi } from './routes/openapi.ts';
import { registerStats } from './routes/stats.ts';
import { registerWebhooks } from './routes/webhooks.ts';
import { refuseInvalid } from './validation.ts';

/**
 * The origin's HTTP API: a list of `registerX(app)` calls behind the shared middleware.
 *
 * @example
 * serve({ fetch: createApp(services, edgeTrust({ secret, maxAgeSeconds: 30, logger })).fetch });
 */
export function createApp(services: Services, edge: EdgeTrust | undefined): App {
  // A request part that fails its route's schema is answered through `onError`, as ours.
  const app = new OpenAPIHono<AppEnv>({ defaultHook: refuseInvalid });
  app.use(async function provideServices(c, next) {
    c.set('services', services);
    await next();
  });
  app.use(requestId());
  app.use(observeRequests());
  // Unsigned, malformed and stale requests are refused on their headers: no body is read.
  const exempt = ['/healthz'];
  app.use(screenEdgeSignature(edge, exempt));
  // Stripe's events and uploads can be larger than API requests; they are signed, and
  // bounded too (an upload by FILE_MAX_AUDIO_BYTES).
  const apiLimit = services.env.BODY_LIMIT_BYTES;
  const limits: Record<string, number> = {
    '/v1/webhooks/stripe': stripeEventLimitBytes,
    '/v1/files': services.env.FILE_MAX_AUDIO_BYTES,
  };
  app.use(limitBody((path) => limits[path] ?? apiLimit));
  // A well-formed, fresh signature is checked against the body, read within its limit.
  app.use(requireEdgeSignature(edge, exempt));
  app.use(durableAnswers());

  // The origin's own liveness probe: the one path served without an edge signature.
  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  registerHealth(app);
  registerModels(app);
  registerAuth(app);
  registerMe(app);
  registerApiKeys(app);
  registerJobs(app);
  registerWebhooks(app);
  registerBilling(app);
  registerStats(app);
  registerFiles(app);
  registerOpenApi(app);

  app.notFound(handleNotFound);
  app.onError(handleError);
  return app;
}
