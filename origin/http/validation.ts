import type { Context } from 'hono';
import type { z } from 'zod';
import { ApiError } from '../../shared/errors.ts';
import { idSchema } from '../../shared/schemas/jobs.ts';

/** zod issues as the `details` of a 400: where, and what is wrong there. */
export function issuesOf(error: z.ZodError): { path: string; message: string; code: string }[] {
  return error.issues.map((i) => ({
    path: i.path.map(String).join('.') || '(root)',
    message: i.message,
    code: i.code,
  }));
}

/** Parses `value` with `schema`, or throws a 400 `invalid_request` listing every issue. */
export function parseOr400<T extends z.ZodType>(
  schema: T,
  value: unknown,
  what: string,
): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ApiError('invalid_request', `The ${what} is not valid.`, {
    details: issuesOf(parsed.error),
  });
}

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

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a JSON body: 415 unless it is sent as application/json, 400 when it is not JSON,
 * nests deeper than `maxJsonDepth`, or does not match `schema`. (The body size is bounded
 * before, by the body-limit middleware.)
 *
 * @example
 * const body = await readJson(c, credentialsSchema);
 */
export async function readJson<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
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
  return parseOr400(schema, raw, 'body');
}

/** A path id: one that cannot be ours is simply not found. */
export function pathId(c: Context, name = 'id'): string {
  const id = c.req.param(name) ?? '';
  if (!idSchema.safeParse(id).success) throw new ApiError('not_found', 'No such id.');
  return id;
}
