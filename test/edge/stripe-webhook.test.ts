import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { verifyEdgeRequest } from '../../shared/edge-signature.ts';
import {
  echoedBody,
  edgeFetch,
  edgeWith,
  expectError,
  newTag,
  seenByOrigin,
  signStripe,
} from './support.ts';

const path = '/v1/webhooks/stripe';

/** A Stripe event's raw body, with characters that a careless re-encoding would change. */
const eventBody = () =>
  `${JSON.stringify(
    {
      id: `evt_test_${crypto.randomUUID().replaceAll('-', '')}`,
      object: 'event',
      type: 'checkout.session.completed',
      created: Math.floor(Date.now() / 1000),
      data: {
        object: { id: 'cs_test_1', object: 'checkout.session', metadata: { note: 'Café ♫ 🎵' } },
      },
    },
    null,
    2,
  )}\n`;

function post(body: string, signature: string | undefined, headers: Record<string, string> = {}) {
  const tag = newTag();
  const all: Record<string, string> = {
    'content-type': 'application/json',
    'x-echo-tag': tag,
    ...headers,
  };
  if (signature !== undefined) all['stripe-signature'] = signature;
  return { tag, res: edgeFetch(path, { method: 'POST', headers: all, body }) };
}

describe('a verified event', () => {
  it('is forwarded with its exact raw body, its Stripe-Signature and an edge signature', async () => {
    const body = eventBody();
    const signature = await signStripe(body);
    const { tag, res } = post(body, signature);
    const answer = await res;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ received: true });

    const seen = await seenByOrigin(tag);
    expect(seen).toHaveLength(1);
    const [forwarded] = seen;
    if (!forwarded) throw new Error('not forwarded');
    expect(forwarded.method).toBe('POST');
    expect(forwarded.path).toBe(path);
    const bytes = echoedBody(forwarded);
    expect(bytes).toEqual(new TextEncoder().encode(body));
    expect(forwarded.headers['stripe-signature']).toBe(signature);
    const check = await verifyEdgeRequest(
      env.EDGE_SIGNING_SECRET as string,
      {
        method: forwarded.method,
        pathWithQuery: forwarded.path,
        body: bytes,
        header: (name) => forwarded.headers[name],
      },
      { maxAgeSeconds: 30 },
    );
    expect(check.ok, JSON.stringify(check)).toBe(true);
  });

  it('may be larger than API bodies (BODY_LIMIT_BYTES): Stripe events have their own bound', async () => {
    const body = eventBody().replace('"Café ♫ 🎵"', JSON.stringify('n'.repeat(8 * 1024)));
    expect(body.length).toBeGreaterThan(Number(env.BODY_LIMIT_BYTES));
    const { tag, res } = post(body, await signStripe(body));
    expect((await res).status).toBe(200);
    expect(await seenByOrigin(tag)).toHaveLength(1);
  });

  it('is answered 502 when the origin fails to record it, so that Stripe retries', async () => {
    const body = eventBody();
    const signature = await signStripe(body);
    for (const mode of ['json-500', 'html-500', 'json-503']) {
      const { tag, res } = post(body, signature, { 'x-echo-mode': mode });
      await expectError(await res, 502, 'bad_gateway');
      expect(await seenByOrigin(tag), mode).toHaveLength(1);
    }
  });
});

describe('an event that does not verify', () => {
  const refusals: [string, () => Promise<{ body: string; signature: string | undefined }>][] = [
    [
      'a tampered body',
      async () => {
        const body = eventBody();
        return { body: body.replace('Café', 'Cafe'), signature: await signStripe(body) };
      },
    ],
    [
      'a stale signature (> 300 s)',
      async () => {
        const body = eventBody();
        return {
          body,
          signature: await signStripe(body, { timestamp: Math.floor(Date.now() / 1000) - 301 }),
        };
      },
    ],
    ['no signature', async () => ({ body: eventBody(), signature: undefined })],
    ['an empty signature', async () => ({ body: eventBody(), signature: '' })],
    ['a garbled signature', async () => ({ body: eventBody(), signature: 't=1,v1=nothex' })],
    [
      'another secret',
      async () => {
        const body = eventBody();
        return {
          body,
          signature: await signStripe(body, { secret: 'whsec_someone_elses_0123456789' }),
        };
      },
    ],
  ];

  it.each(refusals)('with %s is 400 invalid_signature and never forwarded', async (_, make) => {
    const { body, signature } = await make();
    const { tag, res } = post(body, signature);
    const error = await expectError(await res, 400, 'invalid_signature');
    expect(JSON.stringify(error)).not.toContain(env.STRIPE_WEBHOOK_SECRET);
    expect(await seenByOrigin(tag)).toEqual([]);
  });
});

it('is a 500 misconfigured, naming the binding, when the edge has no STRIPE_WEBHOOK_SECRET', async () => {
  const edge = edgeWith({ STRIPE_WEBHOOK_SECRET: undefined });
  const body = eventBody();
  const tag = newTag();
  const res = await edge(path, {
    method: 'POST',
    headers: { 'stripe-signature': await signStripe(body), 'x-echo-tag': tag },
    body,
  });
  const error = await expectError(res, 500, 'misconfigured');
  expect(error.error.message).toContain('STRIPE_WEBHOOK_SECRET');
  expect(await seenByOrigin(tag)).toEqual([]);
});
