/**
 * The origin's logs, read from a real process's output: one JSON line per request (with the
 * request id the edge sent), job lifecycle lines, and never a secret, whatever the requests
 * carried and whichever error path they took.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import type { Api, ApiAnswer } from '../helpers/api.ts';
import { expectApiError, submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { type LogLine, logLines } from '../helpers/logs.ts';
import type { OriginProcess } from '../helpers/origin-process.ts';
import { checkoutSession, signStripe, stripeEvent } from '../helpers/stripe.ts';
import { openSocket } from '../helpers/ws-client.ts';

const hex = () => randomBytes(16).toString('hex');
/** Secrets of the process's environment: none may show in a log line or an answer. */
const envSecrets = {
  JWT_SECRET: `jwt-secret-${hex()}`,
  EDGE_SIGNING_SECRET: `edge-secret-${hex()}`,
  STRIPE_SECRET_KEY: `sk_test_logs_${hex()}`,
  STRIPE_WEBHOOK_SECRET: `whsec_logs_${hex()}`,
};

it.override('originOptions', ({ stripe }) => ({
  env: {
    ...envSecrets,
    STRIPE_API_URL: stripe.url,
    // Everything a debugging operator could turn on.
    LOG_LEVEL: 'trace',
  },
}));

/** A request id as the edge makes them (a UUID), unique to the test. */
const edgeRequestId = () => randomUUID();

/**
 * The log lines about one request id, once there is one: the child's output reaches this
 * process through a pipe, maybe after the HTTP answer did.
 */
async function requestLines(origin: OriginProcess, requestId: string): Promise<LogLine[]> {
  return logged(origin, (l) => l.requestId === requestId, `a line with request id ${requestId}`);
}

/** The log lines matching `predicate`, once there is at least `count` of them. */
async function logged(
  origin: OriginProcess,
  predicate: (line: LogLine) => boolean,
  what: string,
  count = 1,
): Promise<LogLine[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const lines = logLines(origin.output()).filter(predicate);
    if (lines.length >= count) return lines;
    if (Date.now() > deadline) throw new Error(`never logged ${what}:\n${origin.output()}`);
    await sleep(20);
  }
}

/** A user with 50 credits, bought the Stripe way (Stripe mode grants nothing at sign-up). */
async function fundedUser(api: Api) {
  const user = await api.signUp();
  const checkout = await api.call('POST', '/v1/billing/checkout', {
    token: user.token,
    body: { pack: 'starter' },
  });
  expect(checkout.status).toBe(200);
  const session = checkoutSession({
    id: checkout.body.sessionId,
    userId: user.id,
    pack: 'starter',
    amount: 500,
  });
  const event = JSON.stringify(stripeEvent('checkout.session.completed', session));
  const paid = await api.call('POST', '/v1/webhooks/stripe', {
    body: event,
    headers: {
      'content-type': 'application/json',
      'stripe-signature': signStripe(event, { secret: envSecrets.STRIPE_WEBHOOK_SECRET }),
    },
  });
  expect(paid.body).toMatchObject({ outcome: 'credited' });
  return user;
}

describe('request logs', () => {
  it('write one line per request with the edge’s request id, method, route, status, user and ms', async ({
    api,
    origin,
  }) => {
    const user = await fundedUser(api);
    const anonymous = edgeRequestId();
    const health = await api.call('GET', '/v1/health', { headers: { 'x-request-id': anonymous } });
    expect(health.headers.get('x-request-id')).toBe(anonymous);
    const authed = edgeRequestId();
    const job = await submitJob(api, user.token, 'steps', { steps: 1, stepMs: 0 });
    const read = await api.call('GET', `/v1/jobs/${job.id}`, {
      token: user.token,
      headers: { 'x-request-id': authed },
    });
    expect(read.status).toBe(200);
    expect(read.headers.get('x-request-id')).toBe(authed);

    const anonymousLines = await requestLines(origin, anonymous);
    expect(anonymousLines).toEqual([
      expect.objectContaining({
        msg: 'request',
        level: 30,
        method: 'GET',
        route: '/v1/health',
        status: 200,
        ms: expect.any(Number),
      }),
    ]);
    expect(anonymousLines[0]).not.toHaveProperty('userId');
    expect(await requestLines(origin, authed)).toEqual([
      expect.objectContaining({
        msg: 'request',
        method: 'GET',
        route: '/v1/jobs/:id',
        status: 200,
        userId: user.id,
        ms: expect.any(Number),
      }),
    ]);
  });

  it('uses an error answer’s request id in its line too, and replaces a malformed incoming id', async ({
    api,
    origin,
  }) => {
    const sent = edgeRequestId();
    const refused = await api.call('GET', '/v1/me', { headers: { 'x-request-id': sent } });
    expectApiError(refused, 401, 'unauthorized');
    expect(refused.body.error.requestId).toBe(sent);
    expect(await requestLines(origin, sent)).toEqual([
      expect.objectContaining({ msg: 'request', route: '/v1/me', status: 401 }),
    ]);

    // Not an id the origin puts in a log line as it is: a fresh one is made.
    for (const bad of ['two words', 'x'.repeat(300), 'id\u00e9']) {
      const res = await api.call('GET', '/v1/health', { headers: { 'x-request-id': bad } });
      const made = res.headers.get('x-request-id') ?? '';
      expect(made).not.toBe(bad);
      expect(made).toMatch(/^[0-9a-f-]{36}$/);
      expect(await requestLines(origin, made)).toHaveLength(1);
    }
    const none = await api.call('GET', '/v1/health');
    expect(await requestLines(origin, none.headers.get('x-request-id') ?? '')).toHaveLength(1);
  });
});

describe('job logs', () => {
  it('write started and finished lines for each job', async ({ api, origin }) => {
    const user = await fundedUser(api);
    const ok = await submitJob(api, user.token, 'steps', { steps: 2, stepMs: 0 });
    const bad = await submitJob(api, user.token, 'steps', { steps: 1, stepMs: 0, fail: true });
    await api.waitForJob(user.token, ok.id);
    await api.waitForJob(user.token, bad.id);
    const about = (jobId: string) =>
      logged(origin, (l) => l.jobId === jobId && l.msg.startsWith('job '), `job ${jobId}`, 2);
    expect(await about(ok.id)).toEqual([
      expect.objectContaining({ msg: 'job started', model: 'steps', attempt: 1 }),
      expect.objectContaining({ msg: 'job finished', status: 'succeeded' }),
    ]);
    expect(await about(bad.id)).toEqual([
      expect.objectContaining({ msg: 'job started', model: 'steps' }),
      expect.objectContaining({ msg: 'job finished', status: 'failed', error: 'model_error' }),
    ]);
  });
});

describe('secrets', () => {
  it('never appear in the logs or in error answers, on happy and error paths alike', async ({
    api,
    origin,
    stripe,
  }) => {
    const password = `pw-${hex()}`;
    const email = `secret-${hex()}@example.test`;
    const answers: ApiAnswer[] = [];
    const call = async (...args: Parameters<typeof api.call>) => {
      const res = await api.call(...args);
      answers.push(res);
      return res;
    };

    const registered = await call('POST', '/v1/auth/register', { body: { email, password } });
    expect(registered.status).toBe(201);
    const token = registered.body.token as string;
    const userId = registered.body.user.id as string;
    expect((await call('POST', '/v1/auth/login', { body: { email, password } })).status).toBe(200);
    const wrong = `${password}-wrong`;
    const login = await call('POST', '/v1/auth/login', { body: { email, password: wrong } });
    expectApiError(login, 401, 'unauthorized');
    const taken = await call('POST', '/v1/auth/register', { body: { email, password } });
    expect(taken.status).toBe(409);
    const malformed = await call('POST', '/v1/auth/login', {
      body: `{"email":"${email}","password":"${password}"`,
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    const tooShort = `s${hex().slice(0, 6)}`;
    const invalid = await call('POST', '/v1/auth/register', {
      body: { email: 'not an email', password: tooShort },
    });
    expect(invalid.status).toBe(400);

    const cookie = `session=cookie-${hex()}`;
    const withCookie = await call('GET', '/v1/me', { token, headers: { cookie } });
    expect(withCookie.status).toBe(200);
    const key = await call('POST', '/v1/api-keys', { token, body: { name: 'ci' } });
    expect(key.status).toBe(201);
    const apiKey = key.body.key as string;
    expect((await call('GET', '/v1/me', { token: apiKey })).status).toBe(200);
    const forgedKey = `ovt_${hex()}`;
    expect((await call('GET', '/v1/me', { token: forgedKey })).status).toBe(401);
    const forgedJwt = `${token.slice(0, -8)}AAAAAAAA`;
    expect((await call('GET', '/v1/me', { token: forgedJwt })).status).toBe(401);
    const rawAuthorization = `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`;
    const basic = await call('GET', '/v1/jobs', { headers: { authorization: rawAuthorization } });
    expect(basic.status).toBe(401);
    const badJob = await call('POST', '/v1/jobs', {
      token,
      body: { model: 'steps', input: { steps: -1 } },
    });
    expect(badJob.status).toBe(400);
    const notFound = await call('GET', `/v1/jobs/job_${'0'.repeat(26)}`, { token: apiKey });
    expect(notFound.status).toBe(404);
    const webhookSecret = (await call('GET', '/v1/webhooks/secret', { token })).body.secret;
    expect(webhookSecret).toMatch(/^whsec_/);
    const refusedHook = await call('POST', '/v1/jobs', {
      token,
      body: { model: 'steps', input: {}, webhook: { url: 'https://127.0.0.1/hook' } },
    });
    expect(refusedHook.status).toBe(400);

    // WebSocket auth carries the token in the query string.
    const socket = await openSocket(origin.url, { token });
    socket.ws.close();
    const refusedSocket = await openSocket(origin.url, { token: forgedJwt, waitReady: false });
    expect((await refusedSocket.closed).code).toBe(4401);

    // Stripe: a checkout, events with a valid and a bad signature, then Stripe down (502).
    const checkout = await call('POST', '/v1/billing/checkout', {
      token,
      body: { pack: 'starter' },
    });
    expect(checkout.status).toBe(200);
    const event = JSON.stringify(
      stripeEvent(
        'checkout.session.completed',
        checkoutSession({ userId, pack: 'starter', amount: 500 }),
      ),
    );
    const signature = signStripe(event, { secret: envSecrets.STRIPE_WEBHOOK_SECRET });
    const signed = await call('POST', '/v1/webhooks/stripe', {
      body: event,
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    });
    expect(signed.status).toBe(200);
    const badSignature = `t=${Math.floor(Date.now() / 1000)},v1=${hex()}${hex()}`;
    const unsigned = await call('POST', '/v1/webhooks/stripe', {
      body: event,
      headers: { 'content-type': 'application/json', 'stripe-signature': badSignature },
    });
    expect(unsigned.status).toBe(400);
    await stripe.close();
    const down = await call('POST', '/v1/billing/checkout', { token, body: { pack: 'starter' } });
    expectApiError(down, 502, 'bad_gateway');
    // The failure is logged, with its cause, for operators.
    const downId = down.headers.get('x-request-id') ?? '';
    await logged(origin, (l) => l.requestId === downId && l.level >= 50, 'the Stripe failure');
    // Every request so far is in the output.
    const lastId = (answers.at(-1)?.headers.get('x-request-id') ?? '') as string;
    await logged(origin, (l) => l.msg === 'request' && l.requestId === lastId, 'the last request');

    const output = origin.output();
    const secrets: Record<string, string> = {
      ...envSecrets,
      password,
      'wrong password': wrong,
      'short password': tooShort,
      'session token': token,
      'session token signature': token.split('.')[2] ?? token,
      'forged token': forgedJwt,
      'API key': apiKey,
      'webhook signing secret': webhookSecret,
      'forged API key': forgedKey,
      'basic authorization': rawAuthorization.slice('Basic '.length),
      cookie,
      'stripe signature': signature,
      'bad stripe signature': badSignature,
    };
    const leaks = Object.entries(secrets)
      .filter(([, secret]) => output.includes(secret))
      .map(([name]) => name);
    expect(leaks, output.slice(-4000)).toEqual([]);

    // Error answers name no secret either (a token or key answered on purpose is not an error).
    const errorBodies = answers
      .filter((a) => a.status >= 400)
      .map((a) => a.text)
      .join('\n');
    const echoed = Object.entries(secrets)
      .filter(([, secret]) => errorBodies.includes(secret))
      .map(([name]) => name);
    expect(echoed).toEqual([]);
  });
});
