/**
 * Chaos: invariant 4 under abuse, on a real origin behind a real edge. Direct origin
 * requests without, with forged, replayed or stale signatures are refused on every route;
 * another user's ids leak nothing over HTTP or WebSocket; revoked keys and expired or
 * forged JWTs are refused; rate limits hold exactly under concurrent bursts; no secret,
 * password or token shows in either process's output or in any answer.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SignJWT } from 'jose';
import { describe, expect } from 'vitest';
import { signEdgeRequest } from '../../shared/edge-signature.ts';
import type { Job } from '../../shared/schemas/jobs.ts';
import { closeCodes } from '../../shared/ws-messages.ts';
import { type ApiAnswer, type RequestOptions, uniqueEmail } from '../helpers/api.ts';
import type { EdgePair } from '../helpers/edge-pair.ts';
import { expectApiError } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { awayFromWindowEnd } from '../helpers/rate-limit-window.ts';
import { openSocket, upgradeStatus, wsUrl } from '../helpers/ws-client.ts';
import { Figures } from './figures.ts';

const jwtSecret = `jwt-${randomBytes(24).toString('hex')}`;
const stripeWebhookSecret = `whsec_${randomBytes(24).toString('hex')}`;
const maxAgeS = 10;
/**
 * Jobs and auth with an hour's window: no token comes back during a burst of a few seconds.
 * The default budget is counted by the rate-limiting binding, per minute (it knows 10 and 60
 * seconds only): its burst runs within one minute of the wall clock.
 */
const budgets = { jobs: 8, auth: 6, default: 150 };
it.override({
  pairOptions: {
    originEnv: {
      JWT_SECRET: jwtSecret,
      EDGE_SIGNATURE_MAX_AGE_S: String(maxAgeS),
      PROGRESS_INTERVAL_MS: '0',
      // Each refused subscribe counts as a bad message: room for this file's probes.
      WS_ERROR_BUDGET: '50',
    },
    edgeVars: {
      STRIPE_WEBHOOK_SECRET: stripeWebhookSecret,
      RATE_LIMIT_JOBS: `${budgets.jobs}/3600`,
      RATE_LIMIT_AUTH: `${budgets.auth}/3600`,
      RATE_LIMIT_DEFAULT: `${budgets.default}/60`,
    },
  },
});

const missingJob = 'job_01M8000000000000000000000Z';
const missingKey = 'key_01M8000000000000000000000Z';
const password = `pw-${randomUUID()}`;

/** Every answer's raw text, searched for secrets at the end. */
const answers: string[] = [];
function kept<T extends ApiAnswer>(res: T): T {
  answers.push(`${res.status} ${JSON.stringify([...res.headers])} ${res.text}`);
  return res;
}
const viaEdge = async (
  pair: EdgePair,
  method: string,
  path: string,
  options: RequestOptions = {},
) => kept(await pair.api.call(method, path, options));

type Signing = 'none' | 'forged' | 'stale' | 'future' | 'replayed';

/** A request straight to the origin, with the edge's headers as `signing` says. */
async function toOrigin(
  pair: EdgePair,
  signing: Signing | 'valid',
  method: string,
  path: string,
  options: RequestOptions & { signedHeaders?: Record<string, string> } = {},
): Promise<ApiAnswer & { signedHeaders: Record<string, string> }> {
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string'
        ? options.body
        : JSON.stringify(options.body);
  const now = Math.floor(Date.now() / 1000);
  const sign = (secret: string, timestamp = now) =>
    signEdgeRequest(
      secret,
      {
        method,
        pathWithQuery: path,
        body: body === undefined ? undefined : new TextEncoder().encode(body),
        clientIp: '203.0.113.7',
        requestId: randomUUID(),
        headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
      },
      timestamp,
    );
  const signedHeaders =
    options.signedHeaders ??
    (signing === 'none'
      ? {}
      : signing === 'forged'
        ? await sign(`forged-${randomUUID()}-${randomUUID()}`)
        : signing === 'stale'
          ? await sign(pair.secret, now - maxAgeS - 5)
          : signing === 'future'
            ? await sign(pair.secret, now + 600)
            : await sign(pair.secret));
  const res = await pair.direct.call(method, path, {
    token: options.token,
    body,
    headers: {
      ...signedHeaders,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
  });
  return { ...kept(res), signedHeaders };
}

interface User {
  id: string;
  email: string;
  token: string;
}
/** Registers a user straight at the origin (validly signed): the edge's auth budget stays whole. */
async function newUser(pair: EdgePair): Promise<User> {
  const email = uniqueEmail();
  const res = await toOrigin(pair, 'valid', 'POST', '/v1/auth/register', {
    body: { email, password },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const body = res.body as { user: { id: string }; token: string };
  return { id: body.user.id, email, token: body.token };
}

/** Polls a job straight at the origin (signed), so the edge's budgets are not spent on it. */
async function waitForJob(pair: EdgePair, token: string, id: string): Promise<Job> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await toOrigin(pair, 'valid', 'GET', `/v1/jobs/${id}`, { token });
    const job = res.body as Job;
    if (res.status === 200 && ['succeeded', 'failed', 'canceled'].includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} stuck: ${JSON.stringify(res.body)}`);
    await sleep(50);
  }
}

const figures = new Figures('trust');

let alice: User;
let bob: User;
let aliceJob: Job;
let aliceKey: { id: string; key: string };
/** Every token and key handed out, searched for in the logs at the end. */
const tokens: string[] = [];

it.beforeAll(async ({ pair }) => {
  [alice, bob] = await Promise.all([newUser(pair), newUser(pair)]);
  tokens.push(alice.token, bob.token);
  const key = await viaEdge(pair, 'POST', '/v1/api-keys', {
    token: alice.token,
    body: { name: 'a' },
  });
  expect(key.status).toBe(201);
  aliceKey = key.body;
  tokens.push(aliceKey.key);
  const job = await viaEdge(pair, 'POST', '/v1/jobs', {
    token: alice.token,
    body: { model: 'steps', input: { steps: 1, stepMs: 0 } },
  });
  expect(job.status).toBe(202);
  aliceJob = await waitForJob(pair, alice.token, job.body.id);
  expect(aliceJob.status).toBe('succeeded');
});

/** Routes of every kind, each with a body where it takes one. */
const routes = (): { method: string; path: string; body?: unknown }[] => [
  { method: 'GET', path: '/v1/health' },
  { method: 'GET', path: '/v1/models' },
  { method: 'GET', path: '/v1/openapi.json' },
  { method: 'GET', path: '/v1/me' },
  { method: 'GET', path: '/v1/jobs?limit=5' },
  { method: 'GET', path: `/v1/jobs/${aliceJob.id}` },
  { method: 'GET', path: `/v1/jobs/${aliceJob.id}/output` },
  { method: 'GET', path: `/v1/jobs/${aliceJob.id}/webhook-deliveries` },
  { method: 'POST', path: `/v1/jobs/${aliceJob.id}/cancel` },
  { method: 'POST', path: '/v1/jobs', body: { model: 'steps', input: { steps: 1, stepMs: 0 } } },
  { method: 'GET', path: '/v1/api-keys' },
  { method: 'POST', path: '/v1/api-keys', body: { name: 'x' } },
  { method: 'DELETE', path: `/v1/api-keys/${missingKey}` },
  { method: 'GET', path: '/v1/billing/packs' },
  { method: 'GET', path: '/v1/billing/ledger' },
  { method: 'POST', path: '/v1/billing/checkout', body: { pack: 'starter' } },
  { method: 'GET', path: '/v1/webhooks/secret' },
  { method: 'GET', path: '/v1/stats' },
  { method: 'GET', path: '/v1/usage' },
  { method: 'GET', path: '/v1/files' },
  { method: 'GET', path: '/v1/files/file_01M8000000000000000000000Z' },
  { method: 'DELETE', path: '/v1/files/file_01M8000000000000000000000Z' },
  { method: 'POST', path: '/v1/auth/login', body: { email: uniqueEmail(), password } },
  { method: 'POST', path: '/v1/auth/register', body: { email: uniqueEmail(), password } },
  { method: 'GET', path: '/v1/nope' },
  { method: 'GET', path: '/metrics' },
];

const isRefusal = (res: ApiAnswer) =>
  res.status === 401 && (res.body as { error?: { code?: string } })?.error?.code === 'unauthorized';
/** The origin's refusal of a request that did not come (validly) from the edge. */
const isEdgeRefusal = (res: ApiAnswer) =>
  isRefusal(res) &&
  /only through the edge/.test((res.body as { error: { message: string } }).error.message);

describe('straight to the origin', () => {
  it('refuses every route without, with a forged, stale or future signature (401)', async ({
    pair,
  }) => {
    const failures: string[] = [];
    for (const signing of ['none', 'forged', 'stale', 'future'] as const) {
      for (const r of routes()) {
        const res = await toOrigin(pair, signing, r.method, r.path, {
          token: alice.token,
          body: r.body,
        });
        const held = isEdgeRefusal(res);
        figures.count(`unsigned/forged/stale → 401`, held);
        if (!held) failures.push(`${signing} ${r.method} ${r.path}: ${res.status}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('refuses the exact replay of a validly signed request on every route', async ({ pair }) => {
    const failures: string[] = [];
    for (const r of routes()) {
      const first = await toOrigin(pair, 'valid', r.method, r.path, {
        token: alice.token,
        body: r.body,
      });
      // The first one is served: the signature was good (anything but a 401).
      if (isEdgeRefusal(first)) failures.push(`first ${r.method} ${r.path} was refused`);
      const again = await toOrigin(pair, 'replayed', r.method, r.path, {
        token: alice.token,
        body: r.body,
        signedHeaders: first.signedHeaders,
      });
      const held = isEdgeRefusal(again);
      figures.count('replayed signature → 401', held);
      if (!held) failures.push(`replay ${r.method} ${r.path}: ${again.status}`);
    }
    expect(failures).toEqual([]);
  });

  it('refuses the WebSocket upgrade without, forged, stale, or replayed (401)', async ({
    pair,
  }) => {
    const url = wsUrl(pair.origin.url, alice.token);
    const path = new URL(url).pathname + new URL(url).search;
    const upgrade = (headers: Record<string, string>) => upgradeStatus(url, headers);
    const now = Math.floor(Date.now() / 1000);
    const parts = () => ({
      method: 'GET',
      pathWithQuery: path,
      body: undefined,
      clientIp: '203.0.113.7',
      requestId: randomUUID(),
      headers: {},
    });
    const valid = await signEdgeRequest(pair.secret, parts());
    expect(await upgrade(valid)).toBe(101);
    const statuses = [
      await upgrade({}),
      await upgrade(await signEdgeRequest(`forged-${randomUUID()}-${randomUUID()}`, parts())),
      await upgrade(await signEdgeRequest(pair.secret, parts(), now - maxAgeS - 5)),
      await upgrade(valid),
    ];
    for (const s of statuses)
      figures.count('WebSocket upgrade unsigned/forged/stale/replayed → 401', s === 401);
    expect(statuses).toEqual([401, 401, 401, 401]);
  });
});

/** An answer with its request id taken out, to compare two refusals. */
const shape = (res: ApiAnswer) => {
  const body = structuredClone(res.body) as { error?: { requestId?: string } } | undefined;
  if (body?.error) delete body.error.requestId;
  return { status: res.status, body };
};

describe("another user's ids, through the edge", () => {
  it('answer exactly as missing ids do, on every :id route', async ({ pair }) => {
    const pairs: [string, string, string][] = [
      ['GET', `/v1/jobs/${aliceJob.id}`, `/v1/jobs/${missingJob}`],
      ['GET', `/v1/jobs/${aliceJob.id}/output`, `/v1/jobs/${missingJob}/output`],
      [
        'GET',
        `/v1/jobs/${aliceJob.id}/webhook-deliveries`,
        `/v1/jobs/${missingJob}/webhook-deliveries`,
      ],
      ['POST', `/v1/jobs/${aliceJob.id}/cancel`, `/v1/jobs/${missingJob}/cancel`],
      ['DELETE', `/v1/api-keys/${aliceKey.id}`, `/v1/api-keys/${missingKey}`],
    ];
    const failures: string[] = [];
    for (const [method, theirs, missing] of pairs) {
      const a = await viaEdge(pair, method, theirs, { token: bob.token });
      const b = await viaEdge(pair, method, missing, { token: bob.token });
      const held =
        JSON.stringify(shape(a)) === JSON.stringify(shape(b)) &&
        a.status === 404 &&
        !a.text.includes(aliceJob.id);
      figures.count('cross-user HTTP → same as missing', held);
      if (!held) failures.push(`${method} ${theirs}: ${JSON.stringify([shape(a), shape(b)])}`);
    }
    // Nothing of Alice's in Bob's lists, and her key still works after Bob's DELETE.
    const lists = [
      await viaEdge(pair, 'GET', '/v1/jobs?limit=100', { token: bob.token }),
      await viaEdge(pair, 'GET', '/v1/api-keys', { token: bob.token }),
      await viaEdge(pair, 'GET', '/v1/billing/ledger', { token: bob.token }),
      await viaEdge(pair, 'GET', '/v1/stats', { token: bob.token }),
      await viaEdge(pair, 'GET', '/v1/usage', { token: bob.token }),
      await viaEdge(pair, 'GET', '/v1/files', { token: bob.token }),
    ];
    for (const list of lists) {
      const text = list.text;
      const held =
        list.status === 200 &&
        !text.includes(aliceJob.id) &&
        !text.includes(aliceKey.id) &&
        !text.includes(alice.id);
      figures.count('cross-user HTTP → same as missing', held);
      if (!held) failures.push(`a list leaks: ${text.slice(0, 200)}`);
    }
    const stillHers = await viaEdge(pair, 'GET', `/v1/jobs/${aliceJob.id}`, {
      token: aliceKey.key,
    });
    expect(stillHers.status).toBe(200);
    expect(stillHers.body.status).toBe('succeeded');
    // The same Idempotency-Key from another user is another job.
    const key = `idem-${randomUUID()}`;
    const body = { model: 'steps', input: { steps: 1, stepMs: 0 } };
    const mine = await viaEdge(pair, 'POST', '/v1/jobs', {
      token: alice.token,
      body,
      headers: { 'idempotency-key': key },
    });
    const his = await viaEdge(pair, 'POST', '/v1/jobs', {
      token: bob.token,
      body,
      headers: { 'idempotency-key': key },
    });
    const held = mine.status === 202 && his.status === 202 && mine.body.id !== his.body.id;
    figures.count('cross-user HTTP → same as missing', held);
    if (!held) failures.push('the Idempotency-Key crossed users');
    expect(failures).toEqual([]);
  });

  it("subscribing to another user's job is not_found, and none of their events arrive", async ({
    pair,
  }) => {
    const socket = await openSocket(pair.edge.url, { token: bob.token });
    // Alice's jobs, running while Bob listens.
    const running: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await viaEdge(pair, 'POST', '/v1/jobs', {
        token: alice.token,
        body: { model: 'steps', input: { steps: 10, stepMs: 30 } },
      });
      expect(res.status).toBe(202);
      running.push(res.body.id);
    }
    const theirs = [aliceJob.id, ...running];
    const replies: unknown[] = [];
    for (const id of theirs) {
      const answer = await socket.subscribe(id, 0);
      const missing = await socket.subscribe(missingJob, 0);
      replies.push(answer);
      const held =
        answer.type === 'error' &&
        answer.code === 'not_found' &&
        missing.type === 'error' &&
        answer.code === missing.code &&
        answer.message === missing.message;
      figures.count('cross-user WebSocket subscribe → not_found', held);
    }
    expect(replies).toEqual(
      theirs.map((jobId) => expect.objectContaining({ type: 'error', code: 'not_found', jobId })),
    );
    // Bob's own job on the same socket proves it is live while Alice's run to their end.
    const own = await viaEdge(pair, 'POST', '/v1/jobs', {
      token: bob.token,
      body: { model: 'steps', input: { steps: 2, stepMs: 5 } },
    });
    expect(await socket.subscribe(own.body.id, 0)).toMatchObject({ type: 'subscribed' });
    await socket.untilTerminal(own.body.id);
    for (const id of running) {
      expect((await waitForJob(pair, alice.token, id)).status).toBe('succeeded');
    }
    const leaked = socket.messages.filter(
      (m) =>
        JSON.stringify(m).includes(alice.id) ||
        theirs.some((id) => JSON.stringify(m).includes(id) && m.type !== 'error'),
    );
    for (const _ of running)
      figures.count('cross-user WebSocket events → none arrive', leaked.length === 0);
    expect(leaked).toEqual([]);
  });
});

describe('credentials', () => {
  it('refuses a revoked API key, expired, forged and malformed JWTs (401), over HTTP and WebSocket', async ({
    pair,
  }) => {
    const user = await newUser(pair);
    const created = await viaEdge(pair, 'POST', '/v1/api-keys', {
      token: user.token,
      body: { name: 'doomed' },
    });
    tokens.push(created.body.key);
    expect((await viaEdge(pair, 'GET', '/v1/me', { token: created.body.key })).status).toBe(200);
    expect(
      (await viaEdge(pair, 'DELETE', `/v1/api-keys/${created.body.id}`, { token: user.token }))
        .status,
    ).toBe(204);

    const key = new TextEncoder().encode(jwtSecret);
    const now = Math.floor(Date.now() / 1000);
    const jwt = (claims: { sub?: string; iss?: string; exp?: number }, secret = key) => {
      // A session token carries its id and the user's session version (0 until a password change).
      let s = new SignJWT({ sv: 0 })
        .setProtectedHeader({ alg: 'HS256' })
        .setJti(randomUUID())
        .setIssuedAt(now - 3600);
      if (claims.sub) s = s.setSubject(claims.sub);
      if (claims.iss) s = s.setIssuer(claims.iss);
      if (claims.exp) s = s.setExpirationTime(claims.exp);
      return s.sign(secret);
    };
    const good = await jwt({ sub: user.id, iss: 'overture', exp: now + 600 });
    // The minted token is accepted: the refusals below are about what is wrong with each.
    expect((await viaEdge(pair, 'GET', '/v1/me', { token: good })).status).toBe(200);
    const header = Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url');
    const payload = Buffer.from(
      JSON.stringify({ sub: user.id, iss: 'overture', exp: now + 600 }),
    ).toString('base64url');
    const bad: Record<string, string> = {
      'revoked API key': created.body.key,
      'expired JWT': await jwt({ sub: user.id, iss: 'overture', exp: now - 60 }),
      'JWT signed with another secret': await jwt(
        { sub: user.id, iss: 'overture', exp: now + 600 },
        new TextEncoder().encode(`wrong-${randomUUID()}`),
      ),
      'JWT with alg none': `${header}.${payload}.`,
      'JWT with another issuer': await jwt({ sub: user.id, iss: 'evil', exp: now + 600 }),
      'JWT without exp': await jwt({ sub: user.id, iss: 'overture' }),
      'JWT for no user': await jwt({
        sub: 'usr_01M8000000000000000000000Z',
        iss: 'overture',
        exp: now + 600,
      }),
      'JWT with its signature cut': good.slice(0, good.lastIndexOf('.') + 1),
      'JWT with a payload swapped': `${good.split('.')[0]}.${Buffer.from(JSON.stringify({ sub: alice.id, iss: 'overture', exp: now + 600 })).toString('base64url')}.${good.split('.')[2]}`,
    };
    const failures: string[] = [];
    for (const [what, token] of Object.entries(bad)) {
      for (const path of ['/v1/me', '/v1/jobs', '/v1/billing/ledger']) {
        const res = await viaEdge(pair, 'GET', path, { token });
        const held = isRefusal(res);
        figures.count('revoked key / bad JWT → 401', held);
        if (!held) failures.push(`${what} on ${path}: ${res.status}`);
      }
      const socket = await openSocket(pair.edge.url, { token, waitReady: false });
      const closed = await socket.whenClosed(10_000);
      const held = closed.code === closeCodes.unauthorized && socket.messages.length === 0;
      figures.count('revoked key / bad JWT → 401', held);
      if (!held) failures.push(`${what} over WebSocket: ${JSON.stringify(closed)}`);
    }
    expect(failures).toEqual([]);
  });
});

describe('rate limits under concurrent bursts through the edge', () => {
  /** Fires `n` requests at once and answers how many were not 429. */
  async function burst(n: number, send: () => Promise<ApiAnswer>) {
    const all = await Promise.all(Array.from({ length: n }, send));
    const limited = all.filter((r) => r.status === 429);
    for (const r of limited) expectApiError(r, 429, 'rate_limited');
    expect(limited.every((r) => Number(r.headers.get('retry-after')) >= 1)).toBe(true);
    return all.length - limited.length;
  }

  it('lets exactly Q of N through, for the jobs, auth and default budgets', async ({ pair }) => {
    const jobsUser = await newUser(pair);
    const passedJobs = await burst(4 * budgets.jobs, () =>
      viaEdge(pair, 'POST', '/v1/jobs', {
        token: jobsUser.token,
        body: { model: 'steps', input: { steps: 1, stepMs: 0 } },
      }),
    );
    // The auth budget is counted per IP, whatever bearer token comes with it (here a made-up one).
    const authKey = `ovt_${randomUUID()}`;
    const passedAuth = await burst(5 * budgets.auth, () =>
      viaEdge(pair, 'POST', '/v1/auth/login', {
        token: authKey,
        body: { email: uniqueEmail(), password },
      }),
    );
    const defaultUser = await newUser(pair);
    await awayFromWindowEnd(5_000);
    const passedDefault = await burst(budgets.default + 60, () =>
      viaEdge(pair, 'GET', '/v1/me', { token: defaultUser.token }),
    );
    const results = { jobs: passedJobs, auth: passedAuth, default: passedDefault };
    const sizes = { jobs: 4 * budgets.jobs, auth: 5 * budgets.auth, default: budgets.default + 60 };
    for (const name of ['jobs', 'auth', 'default'] as const) {
      // Each request of the burst counts: held when it got its due (Q pass, N − Q get 429).
      const wrong = Math.abs(results[name] - budgets[name]);
      for (let i = 0; i < sizes[name]; i++) {
        figures.count(
          `burst of N at budget Q: exactly Q pass (${name})`,
          i >= wrong,
          `N=${sizes[name]} concurrent, Q=${budgets[name]}`,
        );
      }
    }
    expect(results).toEqual(budgets);
    // Every job that passed was charged once: the balance says so.
    const me = await viaEdge(pair, 'GET', '/v1/me', { token: jobsUser.token });
    expect(me.body.credits).toBe(20 - budgets.jobs);
  });
});

describe('secrets', () => {
  it('never appear in either process output nor in any answer', async ({ pair }) => {
    // Give the edge a reason to use the Stripe secret, and the origin a failed login.
    kept(
      await pair.api.call('POST', '/v1/webhooks/stripe', {
        body: '{"id":"evt_1"}',
        headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' },
      }),
    );
    await toOrigin(pair, 'valid', 'POST', '/v1/auth/login', {
      body: { email: alice.email, password: 'wrong' },
    });
    const secrets = {
      EDGE_SIGNING_SECRET: pair.secret,
      JWT_SECRET: jwtSecret,
      STRIPE_WEBHOOK_SECRET: stripeWebhookSecret,
      password,
    };
    const outputs = { origin: pair.origin.output(), edge: pair.edge.output() };
    const failures: string[] = [];
    for (const [name, value] of Object.entries(secrets)) {
      for (const [where, text] of Object.entries({ ...outputs, answers: answers.join('\n') })) {
        const held = !text.includes(value);
        figures.count('secrets absent from logs and answers', held);
        if (!held) failures.push(`${name} in ${where}`);
      }
    }
    // Tokens are answered to their owner (register, key creation), never logged.
    for (const token of tokens) {
      for (const [where, text] of Object.entries(outputs)) {
        const held = !text.includes(token);
        figures.count('secrets absent from logs and answers', held);
        if (!held) failures.push(`a token in the ${where} output`);
      }
    }
    expect(answers.length).toBeGreaterThan(300);
    expect(failures).toEqual([]);
  });
});

describe('the figures', () => {
  it('are recorded, with nothing lost', ({ pair }) => {
    expect(pair.origin.child.exitCode).toBeNull();
    expect(pair.edge.child.exitCode).toBeNull();
    figures.expectNoneLost('trust', { atLeast: 10 });
  });
});
