import type { RouteConfig } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { AppEnv } from './context.ts';
import { requireUser } from './middleware/require-user.ts';
import { readJsonBody } from './validation.ts';

/**
 * A contract (`shared/api/`) with the middleware its declaration implies, for `app.openapi`:
 * `requireUser` where it has security, so the document cannot promise a token check the
 * route lacks (or the reverse), and `readJsonBody` where it takes a JSON body zod validates.
 *
 * @example
 * app.openapi(enforce(api.getJob), async (c) => c.json(await getJob(…, c.req.valid('param').id), 200));
 */
export function enforce<R extends RouteConfig>(
  route: R,
): R & { middleware: MiddlewareHandler<AppEnv>[] } {
  const middleware: MiddlewareHandler<AppEnv>[] = [];
  if ((route.security ?? []).length > 0) middleware.push(requireUser());
  const json = route.request?.body?.content['application/json'];
  if (json && 'schema' in json && json.schema instanceof z.ZodType) middleware.push(readJsonBody());
  return { ...route, middleware };
}
