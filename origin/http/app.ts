import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { ApiError } from '../../shared/errors.ts';
import type { Services } from '../services.ts';
import type { AppEnv } from './context.ts';
import { handleError, handleNotFound } from './errors.ts';
import { logRequests } from './middleware/log-requests.ts';
import { registerApiKeys } from './routes/api-keys.ts';
import { registerAuth } from './routes/auth.ts';
import { registerHealth } from './routes/health.ts';
import { registerJobs } from './routes/jobs.ts';
import { registerMe } from './routes/me.ts';
import { registerModels } from './routes/models.ts';
import { registerWebhooks } from './routes/webhooks.ts';

/**
 * The origin's HTTP API: a list of `registerX(app)` calls behind the shared middleware.
 *
 * @example
 * serve({ fetch: createApp(services).fetch, port: 8788 });
 */
export function createApp(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(async function provideServices(c, next) {
    c.set('services', services);
    await next();
  });
  app.use(requestId());
  app.use(logRequests());
  app.use(
    bodyLimit({
      maxSize: services.env.BODY_LIMIT_BYTES,
      onError: () => {
        throw new ApiError(
          'payload_too_large',
          `The body is larger than ${services.env.BODY_LIMIT_BYTES} bytes.`,
        );
      },
    }),
  );

  registerHealth(app);
  registerModels(app);
  registerAuth(app);
  registerMe(app);
  registerApiKeys(app);
  registerJobs(app);
  registerWebhooks(app);

  app.notFound(handleNotFound);
  app.onError(handleError);
  return app;
}
