import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type PostOptions, postWebhook } from '../../../origin/webhooks/post.ts';
import { type Responder, startReceiver } from '../../helpers/webhook-receiver.ts';

const deadlineMs = 600;
const options: PostOptions = { deadlineMs, allowInsecure: true };

/** One POST to a receiver answering with `respond`: its answer and how long it took. */
async function timedPost(respond: Responder, extra: Partial<PostOptions> = {}) {
  const receiver = await startReceiver(respond);
  const started = performance.now();
  const answer = await postWebhook(new URL(receiver.url), {}, '{}', { ...options, ...extra });
  return { answer, ms: performance.now() - started, receiver };
}

describe('postWebhook: one attempt, bounded as a whole', () => {
  it('answers the status of a whole answer at once', async () => {
    const { answer, ms } = await timedPost(() => 204);
    expect(answer).toEqual({ statusCode: 204 });
    expect(ms).toBeLessThan(deadlineMs);
  });

  it('ends at its deadline a receiver that sends its status line a byte at a time', async () => {
    const { answer, ms, receiver } = await timedPost(() => ({ drip: 'headers', everyMs: 50 }));
    expect(answer).toEqual({ error: `timed out after ${deadlineMs} ms` });
    expect(ms).toBeGreaterThanOrEqual(deadlineMs - 5);
    expect(ms).toBeLessThan(deadlineMs + 400);
    // The connection is closed, not left to trickle.
    await expect.poll(() => receiver.connections().open).toBe(0);
  });

  it('ends at its deadline a 200 whose body trickles, as answered 200', async () => {
    const { answer, ms } = await timedPost(() => ({ drip: 'body', everyMs: 50 }));
    expect(answer).toEqual({ statusCode: 200 });
    expect(ms).toBeGreaterThanOrEqual(deadlineMs - 5);
    expect(ms).toBeLessThan(deadlineMs + 400);
  });

  it('ends at its deadline a receiver that never answers', async () => {
    const { answer, ms } = await timedPost(() => 'hang');
    expect(answer).toEqual({ error: `timed out after ${deadlineMs} ms` });
    expect(ms).toBeLessThan(deadlineMs + 400);
  });

  it('reads no more than 64 KiB of an endless answer', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200);
      const flood = () => {
        while (res.write(Buffer.alloc(64 * 1024, 'x')));
        res.once('drain', flood);
      };
      flood();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    const { port } = server.address() as AddressInfo;
    const started = performance.now();
    const answer = await postWebhook(new URL(`http://127.0.0.1:${port}/`), {}, '{}', options);
    expect(answer).toEqual({ statusCode: 200 });
    expect(performance.now() - started).toBeLessThan(deadlineMs);
  });

  it('stops at once when its signal aborts', async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 100);
    const { answer, ms } = await timedPost(() => ({ drip: 'headers', everyMs: 50 }), {
      deadlineMs: 60_000,
      signal: stop.signal,
    });
    expect(answer).toMatchObject({ error: expect.stringMatching(/abort/i) });
    expect(ms).toBeLessThan(1_000);
  });

  it.each(['http://[::127.0.0.1]:9/', 'http://[2002:7f00:1::1]:9/', 'http://10.0.0.1:9/'])(
    'refuses %s without connecting, unless insecure delivery is allowed',
    async (url) => {
      const answer = await postWebhook(new URL(url), {}, '{}', {
        deadlineMs,
        allowInsecure: false,
      });
      expect(answer).toEqual({ error: 'blocked address' });
    },
  );
});
