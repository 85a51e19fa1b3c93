import type { Context, MiddlewareHandler } from 'hono';
import { ApiError } from '../../../shared/errors.ts';
import type { EdgeEnv } from '../../context.ts';

/** How much of a refused body is read and dropped before the 413 is sent. */
export const refusedBodyDrainBytes = 1024 * 1024;

export interface BodyLimitOptions {
  /**
   * The largest body accepted, in bytes: a number, or read per request from the context
   * (the edge's `BODY_LIMIT_BYTES` is a binding, which only the context holds).
   */
  maxSize: number | ((c: Context<EdgeEnv>) => number);
  /** How much of a refused body is read and dropped before the 413; 1 MiB by default. */
  drainBytes?: number;
}

/**
 * Refuses a body over `maxSize` bytes with 413 `payload_too_large`: by its Content-Length
 * when it declares one, by counting as it arrives when it is chunked. A body within the
 * limit is buffered and handed on. Past `drainBytes` the reader is released and the
 * runtime drops the rest.
 *
 * A fork of `hono/body-limit`, kept for one difference: a refused body is first read and
 * dropped, up to `drainBytes`. A client that writes its whole body before it reads (most
 * HTTP/1.1 clients) then reads the 413 instead of a reset connection, and `wrangler dev`'s
 * proxy keeps its connection to the Worker: a body the Worker left half read breaks it, and
 * the next request on it fails with "Network connection lost" (cloudflare/workers-sdk#15203;
 * wrangler's own fix for #5095 drains only a body nobody began to read). Hono's cannot be
 * made to drain: its `onError` gets the context alone while its reader, never released,
 * still holds a chunked body's stream. Its `maxSize` is also a number fixed at construction,
 * where ours may be read from the context.
 *
 * @example
 * app.use('/v1/*', bodyLimit({ maxSize: (c) => c.get('config').BODY_LIMIT_BYTES }));
 */
export function bodyLimit(options: BodyLimitOptions): MiddlewareHandler<EdgeEnv> {
  const { maxSize, drainBytes = refusedBodyDrainBytes } = options;
  for (const [name, value] of [
    ['maxSize', maxSize],
    ['drainBytes', drainBytes],
  ] as const) {
    if (typeof value === 'number' && !(Number.isSafeInteger(value) && value >= 0)) {
      throw new RangeError(`bodyLimit: ${name} must be a whole number of bytes, not ${value}.`);
    }
  }
  const limitOf = typeof maxSize === 'number' ? () => maxSize : maxSize;
  const tooLarge = (limit: number) =>
    new ApiError('payload_too_large', `The body is larger than ${limit} bytes.`);
  return async function bodyLimit(c, next) {
    const body = c.req.raw.body;
    if (!body) return next();
    const limit = limitOf(c);
    const declared = c.req.raw.headers.get('content-length');
    if (declared !== null && !c.req.raw.headers.has('transfer-encoding')) {
      if (Number(declared) <= limit) return next();
      await drain(body.getReader(), drainBytes);
      throw tooLarge(limit);
    }
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await drain(reader, drainBytes);
        throw tooLarge(limit);
      }
      chunks.push(value);
    }
    const buffered = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      buffered.set(chunk, offset);
      offset += chunk.byteLength;
    }
    c.req.raw = new Request(c.req.raw, { body: buffered });
    return next();
  };
}

/** Reads and drops up to `budget` bytes, then lets go of the stream. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, budget: number) {
  let left = budget;
  try {
    while (left > 0) {
      const { done, value } = await reader.read();
      if (done) return;
      left -= value.byteLength;
    }
  } catch {
    // The client went away mid-body: there is nothing left to drain.
  } finally {
    reader.releaseLock();
  }
}
