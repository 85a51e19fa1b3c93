import type { App } from './context.ts';

export type OpenApiDocument = ReturnType<App['getOpenAPI31Document']>;

/**
 * The OpenAPI 3.1 document of the API, generated from the contracts the app's routes are
 * registered with (`app.openapi`): every operation, its parameters, body, answers and
 * errors; the schemas named with an `id` in zod's global registry as components.
 *
 * @example
 * const doc = openApiDocument(createApp(services, trust), '0.1.0');
 */
export function openApiDocument(app: App, version: string): OpenApiDocument {
  const doc = app.getOpenAPI31Document({
    openapi: '3.1.1',
    info: {
      title: 'Overture API',
      version,
      description:
        'Generation jobs sold for credits. Errors are `{error:{code,message,details?,requestId}}`; ' +
        'every answer carries `x-request-id`. The WebSocket `GET /v1/ws` (live job events) is ' +
        'described in the API guide, not here.',
    },
  });
  return {
    ...doc,
    components: {
      ...doc.components,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A session token from register or login, or an API key (`ovt_…`).',
        },
      },
    },
  };
}

type JsonNode = Record<string, unknown>;
const isNode = (value: unknown): value is JsonNode => value !== null && typeof value === 'object';

/** Closes every object schema under `node` that lists properties and says nothing of others. */
function close(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(close);
    return;
  }
  if (!isNode(node)) return;
  if (isNode(node.properties) && node.additionalProperties === undefined) {
    node.additionalProperties = false;
  }
  for (const [key, child] of Object.entries(node)) {
    if (key !== 'allOf' || !Array.isArray(child)) close(child);
    // A part of an `allOf` sees only its own properties: close what it nests, not the part.
    else for (const part of child) if (isNode(part)) Object.values(part).forEach(close);
  }
}

/**
 * `doc` with its components closed to undocumented fields (`additionalProperties: false`).
 * Answers stay open to new fields in the served document (API.md: "add fields freely"); tests
 * check real answers against this variant to show the document lists every field they carry.
 *
 * @example
 * expectDocumented(documentAjv(closedAnswers(doc)), closedAnswers(doc), 'get', '/v1/me', res);
 */
export function closedAnswers<D extends { components?: { schemas?: unknown } }>(doc: D): D {
  const closed = structuredClone(doc);
  close(closed.components?.schemas);
  return closed;
}
