import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { guardedLookup, isBlockedAddress } from './url-guard.ts';

/** How much of a receiver's answer is read (and dropped); past it the connection is closed. */
const maxAnswerBytes = 64 * 1024;

/** How an attempt ended: the receiver's status, or the error (or deadline) that ended it. */
export type PostAnswer = { statusCode: number } | { error: string };

export interface PostOptions {
  /** The whole attempt: DNS, connect, TLS, the request, the answer's headers and body. */
  deadlineMs: number;
  /** Development only: http and private addresses. */
  allowInsecure: boolean;
  /** Ends the attempt at once (the origin stopping). */
  signal?: AbortSignal;
}

/**
 * One POST of a webhook, bounded as a whole, with no redirects followed. A receiver that
 * answers a byte at a time ends at the deadline as one that never answers does: a socket's
 * idle timeout would never fire on it. The answer is the status once the receiver's whole
 * answer came (or its first 64 KiB; or its headers, when the deadline falls while its body
 * trickles), else the error.
 *
 * @example
 * await postWebhook(new URL('https://hooks.example.com/x'), headers, body, { deadlineMs: 10_000, allowInsecure: false });
 */
export function postWebhook(
  url: URL,
  headers: Record<string, string>,
  body: string,
  options: PostOptions,
): Promise<PostAnswer> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // An address in the URL is connected to without a lookup: the guard's lookup never sees it.
  if (!options.allowInsecure && isIP(host) !== 0 && isBlockedAddress(host)) {
    return Promise.resolve({ error: 'blocked address' });
  }
  return new Promise((resolve) => {
    let statusCode: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    const settle = (answer: PostAnswer) => {
      clearTimeout(timer);
      resolve(answer);
    };
    const ended = (error: string) => settle(statusCode === undefined ? { error } : { statusCode });
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      url,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'Overture-Webhooks/1',
        },
        lookup: guardedLookup(options.allowInsecure),
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (res) => {
        statusCode = res.statusCode ?? 0;
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > maxAnswerBytes) req.destroy();
        });
        res.on('end', () => ended('answer ended'));
        res.on('error', (error) => ended(error.message));
      },
    );
    timer = setTimeout(
      () => req.destroy(new Error(`timed out after ${options.deadlineMs} ms`)),
      options.deadlineMs,
    );
    req.on('error', (error) => ended(error.message.slice(0, 200)));
    req.on('close', () => ended('connection closed'));
    req.end(body);
  });
}
