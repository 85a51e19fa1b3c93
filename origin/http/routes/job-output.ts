import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { Context } from 'hono';
import { ApiError } from '../../../shared/errors.ts';
import { outputLocationHeader, outputLocationValue } from '../../../shared/output-location.ts';
import { requestedRange } from '../../../shared/range.ts';
import { findOutput } from '../../jobs/read-jobs.ts';
import type { OutputLocation } from '../../outputs/output-store.ts';
import type { AppEnv } from '../context.ts';

/** Bytes `start`..`end` (inclusive) of a file here, or of an output kept with its job. */
function bodyOf(
  location: Exclude<OutputLocation, { at: 'edge' }>,
  start: number,
  end: number,
): ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer> {
  if (location.at === 'inline') return new Uint8Array(location.bytes.subarray(start, end + 1));
  return Readable.toWeb(
    createReadStream(location.path, { start, end }),
  ) as ReadableStream<Uint8Array>;
}

/**
 * `GET /v1/jobs/:id/output`: the file, with validators, and 206 for a single Range. When the
 * output is in the edge's bucket, the answer is where (`outputLocationHeader`): the edge,
 * having checked here that the caller owns the job and the output has not expired, streams
 * the object itself, with the same headers, ranges and validators.
 */
export async function serveOutput(c: Context<AppEnv>, jobId: string): Promise<Response> {
  const file = await findOutput(c.get('services'), c.get('principal'), jobId);
  if (file.location.at === 'edge') {
    c.header('Cache-Control', 'no-store');
    c.header(
      outputLocationHeader,
      outputLocationValue({
        key: file.location.key,
        contentType: file.contentType,
        bytes: file.size,
        etag: file.etag,
        filename: jobId,
      }),
    );
    return c.body(null, 200);
  }
  const { location } = file;
  c.header('Accept-Ranges', 'bytes');
  c.header('ETag', file.etag);
  c.header('Cache-Control', 'private, max-age=31536000, immutable');
  if (c.req.header('if-none-match') === file.etag) return c.body(null, 304);

  const range = requestedRange((name) => c.req.header(name), file);
  if (range === 'unsatisfiable') {
    // An answer about this request's Range, not the file: it must not be cached as the file.
    c.header('Cache-Control', 'no-store');
    c.header('Content-Range', `bytes */${file.size}`);
    throw new ApiError('range_not_satisfiable', `The file has ${file.size} bytes.`);
  }
  c.header('Content-Type', file.contentType);
  c.header('Content-Disposition', `inline; filename="${jobId}"`);
  if (range === undefined) {
    c.header('Content-Length', String(file.size));
    return c.body(bodyOf(location, 0, file.size - 1), 200);
  }
  c.header('Content-Range', `bytes ${range.start}-${range.end}/${file.size}`);
  c.header('Content-Length', String(range.end - range.start + 1));
  return c.body(bodyOf(location, range.start, range.end), 206);
}
