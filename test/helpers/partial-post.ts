import { request } from 'node:http';

export interface PartialPost {
  /** The answer's status and text, once it came (`undefined` if none came in time). */
  answer: Promise<{ status: number; text: string } | undefined>;
  /** Sends the rest of the body and ends the request. */
  finish(): void;
  /** How many body bytes were sent so far. */
  sent(): number;
}

/**
 * A POST that announces a body (`length` bytes, with a Content-Length; or chunked without
 * one) and sends only its first `first` bytes, so that a test can tell whether the server
 * answers without having read the body: an answer that comes before the rest is sent did not
 * wait for it. `answer` resolves `undefined` after `waitMs` without one; the connection is
 * dropped once the answer came or the wait ended.
 *
 * @example
 * const post = partialPost(`${origin.url}/v1/webhooks/stripe`, {}, { length: 1 << 20, first: 65536 });
 * expect((await post.answer)?.status).toBe(401);
 */
export function partialPost(
  url: string,
  headers: Record<string, string>,
  options: { length: number; first: number; chunked?: boolean; waitMs?: number },
): PartialPost {
  const all = { ...headers };
  if (!options.chunked) all['content-length'] = String(options.length);
  const req = request(url, { method: 'POST', headers: all });
  let sent = 0;
  const write = (bytes: number) => {
    req.write(Buffer.alloc(bytes, 'x'));
    sent += bytes;
  };
  const answer = new Promise<{ status: number; text: string } | undefined>((resolve) => {
    const timer = setTimeout(() => {
      req.destroy();
      resolve(undefined);
    }, options.waitMs ?? 5000);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => {
        clearTimeout(timer);
        req.destroy();
        resolve({ status: res.statusCode ?? 0, text });
      });
    });
    // The server may close the connection with the body half sent: that is its right.
    req.on('error', () => undefined);
  });
  write(options.first);
  return {
    answer,
    sent: () => sent,
    finish() {
      if (req.destroyed) return;
      write(options.length - options.first);
      req.end();
    },
  };
}
