import type { TypedResponse } from 'hono';
import * as api from '../../../shared/api/openapi.ts';
import type { App } from '../context.ts';
import { enforce } from '../enforce.ts';
import { openApiDocument } from '../openapi.ts';

/**
 * `GET /v1/openapi.json`: the API's OpenAPI 3.1 document, generated from the routes' contracts
 * once every route is registered (at the first request), served without auth.
 */
export function registerOpenApi(app: App): void {
  let document: string | undefined;
  app.openapi(enforce(api.getOpenApi), (c) => {
    document ??= JSON.stringify(openApiDocument(app, c.get('services').version));
    c.header('Cache-Control', 'public, max-age=300');
    const res = c.body(document, 200, { 'Content-Type': 'application/json; charset=utf-8' });
    // The document is serialized once, not by `c.json` per request: the same JSON, typed as such.
    return res as typeof res & TypedResponse<ReturnType<typeof openApiDocument>, 200, 'json'>;
  });
}
