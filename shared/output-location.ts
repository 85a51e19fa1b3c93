/**
 * The origin's answer to `GET` or `HEAD /v1/jobs/:id/output` when the output is in the
 * edge's R2 bucket: which object, and the headers of the download, in the answer's
 * `x-output-location` header (a header, so that a HEAD, whose body the origin drops, says
 * it as a GET does). The edge turns it into the download itself (`edge/routes/outputs.ts`);
 * the bytes never cross an origin. Both ends import this: it is a protocol between them,
 * never an answer a client sees.
 */
export const outputLocationHeader = 'x-output-location';

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

/** The header's value: the answer as JSON, percent-encoded so that it is plain ASCII. */
export const outputLocationValue = (answer: OutputLocationAnswer): string =>
  encodeURIComponent(JSON.stringify(answer));

/** The answer an origin's response carries, if it carries one. */
export function readOutputLocation(headers: Headers): OutputLocationAnswer | undefined {
  const value = headers.get(outputLocationHeader);
  return value === null
    ? undefined
    : (JSON.parse(decodeURIComponent(value)) as OutputLocationAnswer);
}
