/**
 * The origin's answer to `GET /v1/jobs/:id/output` when the output is in the edge's R2
 * bucket: which object, and the headers of the download. The edge turns it into the
 * download itself (`edge/routes/outputs.ts`); the bytes never cross an origin. Both ends
 * import this: it is a protocol between them, never an answer a client sees.
 */
export const outputLocationType = 'application/vnd.overture.output-location+json';

export interface OutputLocationAnswer {
  /** The object's key in the bucket. */
  key: string;
  contentType: string;
  bytes: number;
  /** The strong validator, quoted: the SHA-256 of the bytes. */
  etag: string;
  /** The download's file name (the job id). */
  filename: string;
}
