import type { Hook } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import { ApiError } from '../../shared/errors.ts';
import type { AppEnv } from './context.ts';

/** zod issues as the `details` of a 400: where, and what is wrong there. */
export function issuesOf(error: z.ZodError): { path: string; message: string; code: string }[] {
  return error.issues.map((i) => ({
    path: i.path.map(String).join('.') || '(root)',
    message: i.message,
    code: i.code,
  }));
}

/** The message of a 400, by the part of the request that failed its schema. */
const refusals: Record<string, string> = {
  json: 'The body is not valid.',
  query: 'The query is not valid.',
  header: 'A header is not valid.',
};

/**
 * The app's `defaultHook`: what fails its route's schema is answered in the API's words
 * (through `onError`). A path parameter is an id, and one that cannot be ours is simply not
 * found; any other part is a 400 `invalid_request` listing every issue.
 *
 * @example
 * const app = new OpenAPIHono<AppEnv>({ defaultHook: refuseInvalid });
 */
export const refuseInvalid: Hook<unknown, AppEnv, string, void> = (result) => {
  if (result.success) return;
  if (result.target === 'param') throw new ApiError('not_found', 'No such id.');
  const message = refusals[result.target] ?? `The ${result.target} is not valid.`;
  throw new ApiError('invalid_request', message, {
    details: issuesOf(result.error),
  });
};

/**
 * How deeply a JSON body may nest. A small body can still nest thousands of levels, and
 * recursive code downstream (structuredClone, JSON.stringify, schema checks) would then
 * overflow the stack; real requests stay a few levels deep.
 */
export const maxJsonDepth = 32;

/** True when `value` nests objects or arrays more than `limit` levels deep; no recursion. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [node, depth] = item;
    if (node === null || typeof node !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * `application/json`, with well-formed parameters only: what @hono/zod-openapi's media-type
 * gate lets through, so that every refusal is this middleware's, in the API's words.
 */
const jsonType = /^application\/json(;\s*[a-z0-9-]+=[^;]+)*$/i;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a JSON body before the route's validator sees it: 415 unless it is sent as
 * application/json, 400 when it is not UTF-8, not JSON, or nests deeper than `maxJsonDepth`.
 * The route's schema is then checked by @hono/zod-openapi's validator (its failures reach
 * `refuseInvalid`), which parses the body again from Hono's cache: a second `JSON.parse` of a
 * body the body limit keeps small. The size is bounded before, by the body-limit middleware.
 * `enforce` adds it to every route whose contract takes a JSON body.
 *
 * @example
 * app.openapi({ ...route, middleware: [readJsonBody()] }, (c) => c.json(c.req.valid('json')));
 */
export function readJsonBody(): MiddlewareHandler<AppEnv> {
  return async function readJsonBody(c, next) {
    if (!jsonType.test(c.req.header('content-type') ?? '')) {
      throw new ApiError('unsupported_media_type', 'Send the body as application/json.');
    }
    let text: string;
    try {
      // JSON is UTF-8 (RFC 8259): invalid bytes are refused, not silently replaced by U+FFFD.
      text = strictUtf8.decode(await c.req.arrayBuffer());
    } catch {
      throw new ApiError('invalid_request', 'The body is not valid UTF-8.');
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new ApiError('invalid_request', 'The body is not valid JSON.');
    }
    if (nestsDeeperThan(raw, maxJsonDepth)) {
      throw new ApiError('invalid_request', `The body nests deeper than ${maxJsonDepth} levels.`);
    }
    await next();
  };
}
