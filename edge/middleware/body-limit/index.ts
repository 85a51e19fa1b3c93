import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../../../shared/errors.ts';
import type { EdgeEnv } from '../../context.ts';

/** How much of a refused body is read and dropped before the 413 is sent. */
export const refusedBodyDrainBytes = 1024 * 1024;

/**
 * Refuses a body over `maxSize` bytes with 413 `payload_too_large`: by its Content-Length
 * when it declares one, by counting as it arrives when it is chunked. A body within the
 * limit is buffered and handed on. A refused body is first read and dropped, up to
 * `drainBytes`: a client that writes its whole body before it reads (most HTTP/1.1 clients)
 * then reads the 413 instead of a reset connection, and `wrangler dev`'s proxy keeps its
 * connection to the Worker, which a half-read body breaks (a later request on it fails with
 * "Network connection lost", cloudflare/workers-sdk#15203). Past `drainBytes` the reader is
 * released and the runtime drops the rest.
 *
 * @example
 * app.use('/v1/*', bodyLimit({ maxSize: 64 * 1024 }));
 */
export function bodyLimit(options: {
  maxSize: number;
  drainBytes?: number;
}): MiddlewareHandler<EdgeEnv> {
  const { maxSize, drainBytes = refusedBodyDrainBytes } = options;
  const tooLarge = () =>
    new ApiError('payload_too_large', `The body is larger than ${maxSize} bytes.`);
  return async function bodyLimit(c, next) {
    const body = c.req.raw.body;
    if (!body) return next();
    const declared = c.req.raw.headers.get('content-length');
    if (declared !== null && !c.req.raw.headers.has('transfer-encoding')) {
      if (Number(declared) <= maxSize) return next();
      await drain(body.getReader(), drainBytes);
      throw tooLarge();
    }
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxSize) {
        await drain(reader, drainBytes);
        throw tooLarge();
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
