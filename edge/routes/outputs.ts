import type { Context } from 'hono';
import { ApiError } from '../../shared/errors.ts';
import { verifyOriginRequest } from '../../shared/origin-signature.ts';
import type { OutputLocationAnswer } from '../../shared/output-location.ts';
import { requestedRange } from '../../shared/range.ts';
import type { EdgeApp, EdgeEnv } from '../context.ts';
import { errorResponse } from '../errors.ts';

/** How old an origin's signed call may be. */
const originSignatureMaxAgeSeconds = 300;
const keyPattern = /^[A-Za-z0-9_.-]{1,200}$/;

/** The bucket, or a clear 500 naming the missing binding. */
function bucketOf(c: Context<EdgeEnv>): R2Bucket {
  const bucket = c.env.OUTPUTS;
  if (!bucket) {
    throw new ApiError(
      'misconfigured',
      'The edge is misconfigured: the OUTPUTS R2 binding is missing.',
    );
  }
  return bucket;
}

/** The call is an origin's, signed, fresh and for this exact method and path; else 401. */
async function requireOrigin(c: Context<EdgeEnv>): Promise<{ sha256: string; length: number }> {
  const check = await verifyOriginRequest(
    c.get('config').EDGE_SIGNING_SECRET,
    {
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      header: (name) => c.req.header(name),
    },
    { maxAgeSeconds: originSignatureMaxAgeSeconds },
  );
  if (!check.ok) throw new ApiError('unauthorized', `Not an origin's call (${check.reason}).`);
  return check;
}

function keyOf(c: Context<EdgeEnv>): string {
  const key = c.req.param('key') ?? '';
  if (!keyPattern.test(key)) throw new ApiError('not_found', 'No such output.');
  return key;
}

/**
 * The origins' route to the edge's R2 bucket, which no client can call (each call is
 * signed with the origins' scheme, `shared/origin-signature.ts`): `PUT` stores a job's
 * output and answers 201 once R2's `put` resolved (the origin marks the job succeeded only
 * then), streaming the body to R2 with its declared SHA-256, which R2 checks; `GET`
 * describes one (for operators and tests); `GET …/bytes` answers one's bytes (an uploaded file
 * a job reads); `DELETE` removes one (retention).
 * Registered outside `/v1`: no client budget or body limit applies (`OUTPUT_MAX_BYTES` does).
 */
export function registerOutputRoutes(app: EdgeApp): void {
  app.put('/internal/outputs/:key', async function storeOutput(c) {
    const key = keyOf(c);
    const { sha256, length } = await requireOrigin(c);
    const limit = c.get('config').OUTPUT_MAX_BYTES;
    if (length > limit) {
      throw new ApiError('payload_too_large', `An output may have at most ${limit} bytes.`);
    }
    const body = c.req.raw.body;
    if (!body || length === 0) throw new ApiError('invalid_request', 'An output has bytes.');
    const stored = await bucketOf(c)
      .put(key, body, {
        sha256,
        httpMetadata: { contentType: c.req.header('content-type') ?? 'application/octet-stream' },
      })
      .catch((error: unknown) => {
        // R2 (and workerd's local R2) refuses a body whose SHA-256 is not the one declared.
        if (error instanceof Error && /checksum .*did not match/i.test(error.message)) {
          throw new ApiError('invalid_request', 'The bytes do not match their declared SHA-256.');
        }
        throw error;
      });
    if (!stored) throw new ApiError('internal', 'The bucket did not store the output.');
    return c.json({ key, size: stored.size }, 201);
  });

  app.get('/internal/outputs/:key', async function describeOutput(c) {
    const key = keyOf(c);
    await requireOrigin(c);
    const head = await bucketOf(c).head(key);
    if (!head) throw new ApiError('not_found', 'No such output.');
    return c.json({ key, size: head.size, contentType: head.httpMetadata?.contentType ?? null });
  });

  // The bytes of one: what an origin reads back of an uploaded file (`POST /v1/files`) that a
  // job takes as input, wherever it was uploaded.
  app.get('/internal/outputs/:key/bytes', async function readOutput(c) {
    const key = keyOf(c);
    await requireOrigin(c);
    const object = await bucketOf(c).get(key);
    if (!object) throw new ApiError('not_found', 'No such output.');
    return new Response(object.body, {
      headers: {
        'content-type': object.httpMetadata?.contentType ?? 'application/octet-stream',
        'content-length': String(object.size),
      },
    });
  });

  app.delete('/internal/outputs/:key', async function removeOutput(c) {
    const key = keyOf(c);
    await requireOrigin(c);
    await bucketOf(c).delete(key);
    return c.body(null, 204);
  });
}

/**
 * The download of an output in the bucket, once the origin said whose it is and where
 * (`location`), for a GET or a HEAD: the same answers as the origin's own download — `ETag`, `Accept-Ranges`,
 * one `Range` → 206 (a stale `If-Range` → the whole object), `If-None-Match` → 304, an
 * unsatisfiable range → 416 — streamed from R2.
 */
export async function serveFromBucket(
  c: Context<EdgeEnv>,
  location: OutputLocationAnswer,
): Promise<Response> {
  const headers = new Headers({
    'Accept-Ranges': 'bytes',
    ETag: location.etag,
    'Cache-Control': 'private, max-age=31536000, immutable',
  });
  if (c.req.header('if-none-match') === location.etag) {
    return new Response(null, { status: 304, headers });
  }
  const range = requestedRange((name) => c.req.header(name), {
    size: location.bytes,
    etag: location.etag,
  });
  if (range === 'unsatisfiable') {
    // An answer about this request's Range, not the file: it must not be cached as the file.
    const refused = errorResponse(
      c,
      new ApiError('range_not_satisfiable', `The file has ${location.bytes} bytes.`),
    );
    refused.headers.set('Cache-Control', 'no-store');
    refused.headers.set('Content-Range', `bytes */${location.bytes}`);
    return refused;
  }
  // A HEAD reads the object's metadata only: its answer has the headers and no body.
  const object =
    c.req.method === 'HEAD'
      ? await bucketOf(c).head(location.key)
      : await bucketOf(c).get(
          location.key,
          range ? { range: { offset: range.start, length: range.end - range.start + 1 } } : {},
        );
  if (!object) throw new ApiError('gone', 'The output of this job was removed.');
  const body = 'body' in object ? (object as R2ObjectBody).body : null;
  headers.set('Content-Type', location.contentType);
  headers.set('Content-Disposition', `inline; filename="${location.filename}"`);
  if (!range) {
    headers.set('Content-Length', String(object.size));
    return new Response(body, { status: 200, headers });
  }
  headers.set('Content-Range', `bytes ${range.start}-${range.end}/${object.size}`);
  headers.set('Content-Length', String(range.end - range.start + 1));
  return new Response(body, { status: 206, headers });
}
