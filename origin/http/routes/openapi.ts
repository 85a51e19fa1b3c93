import type { App } from '../context.ts';
import { buildOpenApi } from '../openapi.ts';

/** `GET /v1/openapi.json`: the API's OpenAPI 3.1 document, built once, served without auth. */
export function registerOpenApi(app: App): void {
  let document: string | undefined;
  app.get('/v1/openapi.json', (c) => {
    document ??= JSON.stringify(buildOpenApi({ version: c.get('services').version }));
    c.header('Cache-Control', 'public, max-age=300');
    return c.body(document, 200, { 'Content-Type': 'application/json; charset=utf-8' });
  });
}
