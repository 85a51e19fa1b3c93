/**
 * Helpers for the edge's tests, which run inside workerd: requests to the Worker (`SELF`)
 * or to a Worker built with other bindings, and a look at what the echo origin received.
 */
import { env, SELF } from 'cloudflare:test';
import { SignJWT } from 'jose';
import Stripe from 'stripe';
import { expect, inject, onTestFinished } from 'vitest';
import { createEdgeApp } from '../../edge/app.ts';
import type { Bindings } from '../../edge/config.ts';
import { apiKeyTags } from '../../shared/api-key.ts';
import {
  hasSignedBody,
  streamedBodyHeader,
  verifyEdgeRequest,
} from '../../shared/edge-signature.ts';
import type { ErrorBody } from '../../shared/errors.ts';

export { awayFromWindowEnd } from '../helpers/rate-limit-window.ts';

/** What the echo origin answers by default: the request it received (body in base64). */
export interface Echoed {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** What the origin's own check said of its edge signature (`ok`, or why it refused it). */
  edgeCheck: string;
}

export const edgeBase = 'https://edge.overture.test';

/**
 * A client IP of its own (`cf-connecting-ip`, random in the IPv6 documentation range), so
 * that a test's requests spend a rate-limit bucket that no other test, in any file, touches.
 */
export function newClientIp(): string {
  const words = Array.from(crypto.getRandomValues(new Uint16Array(6)), (w) => w.toString(16));
  return `2001:db8:${words.join(':')}`;
}

/** A user id of its own, shaped as the origins make them. */
export const newUserId = (): string =>
  `usr_${crypto.randomUUID().replaceAll('-', '').slice(0, 26).toUpperCase()}`;

/**
 * A session JWT as the origins sign it (`origin/auth/tokens.ts`: HS256, issuer `overture`),
 * under the edge project's JWT_SECRET unless another secret is given.
 */
export function newSession(
  userId = newUserId(),
  options: { secret?: string; issuer?: string; expiresAt?: number } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuer(options.issuer ?? 'overture')
    .setIssuedAt(now)
    .setExpirationTime(options.expiresAt ?? now + 600)
    .sign(new TextEncoder().encode(options.secret ?? (env.JWT_SECRET as string)));
}

/** An API key of `userId` as the origins mint them, under the edge project's JWT_SECRET. */
export const newApiKey = (userId: string): Promise<string> =>
  apiKeyTags(new TextEncoder().encode(env.JWT_SECRET as string)).mint(userId);

/**
 * The other spellings of a base64url part whose last character carries bits no decoder
 * reads (2 of them in a 43-character HMAC-SHA256 signature: three other spellings).
 */
export function otherSpellings(part: string): string[] {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const unused = part.length % 4 === 2 ? 4 : part.length % 4 === 3 ? 2 : 0;
  const mask = 2 ** unused - 1;
  const last = alphabet.indexOf(part.at(-1) ?? '');
  return Array.from(
    { length: mask },
    (_, i) => part.slice(0, -1) + alphabet[(last & ~mask) | ((last + i + 1) & mask)],
  );
}

/** A tag for `x-echo-tag`, to find the requests of one test at the echo origin. */
export const newTag = (): string => `tag-${crypto.randomUUID()}`;

/** A request to the Worker under test, from its own client IP unless one is given. */
export function edgeFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has('cf-connecting-ip')) headers.set('cf-connecting-ip', newClientIp());
  return SELF.fetch(`${edgeBase}${path}`, { ...init, headers });
}

/**
 * The edge app with other bindings than the Worker's (the same Durable Object namespace):
 * for the settings one test needs, such as rate limiting switched off.
 */
export function edgeWith(overrides: Partial<Record<keyof Bindings, string | undefined>>) {
  const app = createEdgeApp();
  const bindings = { ...env, ...overrides } as Bindings;
  return (path: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (!headers.has('cf-connecting-ip')) headers.set('cf-connecting-ip', newClientIp());
    return Promise.resolve(
      app.fetch(new Request(`${edgeBase}${path}`, { ...init, headers }), bindings),
    );
  };
}

/** The requests tagged `tag` that reached the echo origin. */
export async function seenByOrigin(tag: string): Promise<Echoed[]> {
  const res = await fetch(`${inject('echoOrigin')}/__echo/seen?tag=${encodeURIComponent(tag)}`);
  return (await res.json()) as Echoed[];
}

/** The bytes of an echoed body. */
export const echoedBody = (echoed: Echoed): Uint8Array<ArrayBuffer> =>
  Uint8Array.from(atob(echoed.body), (ch) => ch.charCodeAt(0));

/**
 * Checks the edge signature of a request as the echo origin received it (with `secret`, the
 * Worker's by default), with no replay cache: a test may check one request several times.
 */
export const verifyEchoed = (echoed: Echoed, secret = env.EDGE_SIGNING_SECRET as string) =>
  verifyEdgeRequest(
    secret,
    {
      method: echoed.method,
      pathWithQuery: echoed.path,
      body: !hasSignedBody(echoed.method)
        ? undefined
        : echoed.headers[streamedBodyHeader] === 'stream'
          ? { streamedBytes: Number(echoed.headers['content-length']) }
          : echoedBody(echoed),
      header: (name) => echoed.headers[name],
    },
    { maxAgeSeconds: 30 },
  );

/**
 * Asserts the API's error shape (status, JSON `{error:{code,message,requestId}}` whose id is
 * the `x-request-id` header's) and answers the body.
 */
export async function expectError(res: Response, status: number, code: string): Promise<ErrorBody> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type'), text).toMatch(/^application\/json/);
  const body = JSON.parse(text) as ErrorBody;
  expect(body.error.code, text).toBe(code);
  expect(body.error.message, text).toEqual(expect.any(String));
  expect(res.headers.get('x-request-id'), text).toBeTruthy();
  expect(body.error.requestId, text).toBe(res.headers.get('x-request-id'));
  return body;
}

const stripeCrypto = Stripe.createSubtleCryptoProvider();

/** A `Stripe-Signature` header made with Stripe's own scheme (Web Crypto, as in workerd). */
export function signStripe(
  payload: string,
  options: { secret?: string; timestamp?: number } = {},
): Promise<string> {
  return Stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret: options.secret ?? (env.STRIPE_WEBHOOK_SECRET as string),
    cryptoProvider: stripeCrypto,
    ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
  });
}

/** How a cluster's echo origin behaves (`EchoBehaviour` in test/helpers/echo-origin.ts). */
export type EchoBehaviour = 'serve' | 'degraded' | 'not_ready' | 'model_loading' | 'hang' | 'down';

const controlOf = (originUrl: string, action: string) =>
  `${inject('echoControl')}/${new URL(originUrl).port}/${action}`;

/** Switches one echo origin of `echoClusters` to `behaviour`. */
export async function behave(originUrl: string, behaviour: EchoBehaviour): Promise<void> {
  const res = await fetch(controlOf(originUrl, 'behaviour'), { method: 'PUT', body: behaviour });
  if (!res.ok) throw new Error(`cannot switch ${originUrl} to ${behaviour}: ${await res.text()}`);
}

/**
 * Switches an echo origin of `echoClusters` for this test only: it serves again when the test
 * ends, after `settleMs` (let the edge's skip of it run out, so that the next test finds every
 * origin in its turns).
 */
export async function misbehave(
  originUrl: string,
  behaviour: EchoBehaviour,
  settleMs = 0,
): Promise<void> {
  await behave(originUrl, behaviour);
  onTestFinished(async () => {
    await behave(originUrl, 'serve');
    await new Promise((resolve) => setTimeout(resolve, settleMs));
  });
}

/** The requests tagged `tag` that reached one echo origin of `echoClusters`, even a closed one. */
export async function seenAt(originUrl: string, tag: string): Promise<Echoed[]> {
  const res = await fetch(`${controlOf(originUrl, 'seen')}?tag=${encodeURIComponent(tag)}`);
  return (await res.json()) as Echoed[];
}

/** The edge app in front of several origins (ORIGIN_URLS), rate limits off, more bindings on top. */
export const clusterEdge = (
  origins: readonly string[],
  more: Partial<Record<keyof Bindings, string | undefined>> = {},
) =>
  edgeWith({
    ORIGIN_URL: undefined,
    ORIGIN_URLS: origins.join(','),
    RATE_LIMIT_ENABLED: 'false',
    ...more,
  });
