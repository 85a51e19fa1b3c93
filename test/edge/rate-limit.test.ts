import { beforeEach, describe, expect, it } from 'vitest';
import {
  awayFromWindowEnd,
  type Echoed,
  edgeFetch,
  edgeWith,
  expectError,
  newClientIp,
  newSession,
  signStripe,
} from './support.ts';

// Budgets in vitest.config.ts: jobs 3/60, auth 4/60, default 20/60 (its binding's too).
const jobsBudget = 3;
const authBudget = 4;
const defaultBudget = 20;

// The default budget is counted in windows of the wall clock's minute: no test straddles one.
beforeEach(() => awayFromWindowEnd());

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
/** A made-up bearer token: the edge cannot check it, so it is counted by IP. */
const madeUpToken = () => `ovt_${crypto.randomUUID().replaceAll('-', '')}`;

const submit = (headers: Record<string, string>) =>
  edgeFetch('/v1/jobs', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'steps', input: {} }),
  });

/** Fires `n` requests at once and answers their statuses, with every answer. */
async function burst(n: number, send: () => Promise<Response>) {
  const answers = await Promise.all(Array.from({ length: n }, send));
  await Promise.all(answers.map((r) => r.arrayBuffer()));
  return {
    answers,
    allowed: answers.filter((r) => r.ok).length,
    limited: answers.filter((r) => r.status === 429).length,
  };
}

describe('exact budgets under concurrency', () => {
  it('lets exactly the budget of concurrent job submissions through, and refuses the rest', async () => {
    const token = await newSession();
    const { answers, allowed, limited } = await burst(12, () => submit(bearer(token)));
    expect({ allowed, limited }).toEqual({ allowed: jobsBudget, limited: 12 - jobsBudget });
    // Every allowed answer saw a different number of requests left.
    const remaining = answers
      .filter((r) => r.ok)
      .map((r) => /;r=(\d+);/.exec(r.headers.get('ratelimit') ?? '')?.[1]);
    expect(remaining.sort()).toEqual(['0', '1', '2']);
  });

  it('lets exactly the default budget of concurrent reads through from one IP', async () => {
    const ip = newClientIp();
    const { allowed, limited } = await burst(30, () =>
      edgeFetch('/v1/models', { headers: { 'cf-connecting-ip': ip } }),
    );
    expect({ allowed, limited }).toEqual({ allowed: defaultBudget, limited: 30 - defaultBudget });
  });

  it('refuses with 429 rate_limited, Retry-After and the budget headers', async () => {
    const token = await newSession();
    await burst(jobsBudget, () => submit(bearer(token)));
    const res = await submit(bearer(token));
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(res.headers.get('ratelimit-policy')).toBe(`"jobs";q=${jobsBudget};w=60`);
    expect(res.headers.get('ratelimit')).toMatch(/^"jobs";r=0;t=\d+$/);
    await expectError(res, 429, 'rate_limited');
  });

  it('refuses a read past the default budget until its window ends, with the same headers', async () => {
    const ip = newClientIp();
    const read = () => edgeFetch('/v1/models', { headers: { 'cf-connecting-ip': ip } });
    await burst(defaultBudget, read);
    const res = await read();
    // The binding counts per minute of the wall clock: come back when this one ends.
    const untilNextMinute = Math.ceil((60_000 - (Date.now() % 60_000)) / 1000);
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(Math.abs(retryAfter - untilNextMinute)).toBeLessThanOrEqual(1);
    expect(res.headers.get('ratelimit-policy')).toBe(`"default";q=${defaultBudget};w=60`);
    expect(res.headers.get('ratelimit')).toBe(`"default";r=0;t=${retryAfter}`);
    await expectError(res, 429, 'rate_limited');
  });
});

describe('headers on allowed answers', () => {
  it('carry RateLimit-Policy of the budget spent, and RateLimit where the count is exact', async () => {
    const token = await newSession();
    const first = await submit(bearer(token));
    expect(first.status).toBe(202);
    expect(first.headers.get('ratelimit-policy')).toBe(`"jobs";q=${jobsBudget};w=60`);
    expect(first.headers.get('ratelimit')).toMatch(
      new RegExp(`^"jobs";r=${jobsBudget - 1};t=\\d+$`),
    );

    const read = await edgeFetch('/v1/jobs?limit=5', { headers: bearer(token) });
    expect(read.status).toBe(200);
    expect(read.headers.get('ratelimit-policy')).toBe(`"default";q=${defaultBudget};w=60`);
    // The binding that counts the default budget says allowed or not, never what is left.
    expect(read.headers.get('ratelimit')).toBeNull();

    const login = await edgeFetch('/v1/auth/login', { method: 'POST', body: '{}' });
    expect(login.headers.get('ratelimit-policy')).toBe(`"auth";q=${authBudget};w=60`);
    await Promise.all([first.body?.cancel(), read.body?.cancel(), login.body?.cancel()]);
  });
});

describe('budgets and keys', () => {
  it('keeps the jobs, auth and default budgets apart', async () => {
    const ip = newClientIp();
    const token = await newSession();
    const headers = { 'cf-connecting-ip': ip, ...bearer(token) };
    expect((await burst(jobsBudget + 2, () => submit(headers))).allowed).toBe(jobsBudget);
    // Jobs spent: reads and auth still have their own budgets.
    const read = await edgeFetch('/v1/jobs', { headers });
    expect(read.status).toBe(200);
    const auth = await burst(authBudget + 2, () =>
      edgeFetch('/v1/auth/register', { method: 'POST', headers, body: '{}' }),
    );
    expect(auth.allowed).toBe(authBudget);
    // Auth spent: job reads still go.
    const again = await edgeFetch('/v1/jobs/some-id', { headers });
    expect(again.status).toBe(200);
    await Promise.all([read.body?.cancel(), again.body?.cancel()]);
  });

  it("gives each user's session its own bucket, apart from its IP", async () => {
    const ip = newClientIp();
    const [a, b] = [await newSession(), await newSession()];
    const spent = await burst(jobsBudget + 1, () =>
      submit({ 'cf-connecting-ip': ip, ...bearer(a) }),
    );
    expect(spent.allowed).toBe(jobsBudget);
    // Another user from the same IP, and the same IP with no token, are not affected.
    const other = await burst(jobsBudget, () => submit({ 'cf-connecting-ip': ip, ...bearer(b) }));
    expect(other.allowed).toBe(jobsBudget);
    const anonymous = await burst(jobsBudget, () => submit({ 'cf-connecting-ip': ip }));
    expect(anonymous.allowed).toBe(jobsBudget);
    // The spent token stays spent from anywhere.
    const elsewhere = await submit({ 'cf-connecting-ip': newClientIp(), ...bearer(a) });
    await expectError(elsewhere, 429, 'rate_limited');
  });

  it('counts auth attempts by IP, whatever bearer token they carry', async () => {
    const ip = newClientIp();
    const login = () =>
      edgeFetch('/v1/auth/login', {
        method: 'POST',
        headers: { 'cf-connecting-ip': ip, ...bearer(madeUpToken()) },
        body: '{}',
      });
    const guesses = await burst(authBudget + 2, login);
    expect(guesses.allowed).toBe(authBudget);
    expect(guesses.limited).toBe(2);
  });

  it('counts requests with no token by IP: another IP has its own bucket', async () => {
    const ip = newClientIp();
    expect((await burst(jobsBudget + 1, () => submit({ 'cf-connecting-ip': ip }))).limited).toBe(1);
    const res = await submit({ 'cf-connecting-ip': newClientIp() });
    expect(res.status).toBe(202);
    await res.body?.cancel();
  });
});

describe('unlimited paths', () => {
  it('never limits the health routes', async () => {
    const ip = newClientIp();
    for (const path of ['/v1/health', '/healthz']) {
      const { answers, allowed } = await burst(defaultBudget + 5, () =>
        edgeFetch(path, { headers: { 'cf-connecting-ip': ip } }),
      );
      expect(allowed, path).toBe(defaultBudget + 5);
      for (const res of answers) expect(res.headers.get('ratelimit'), path).toBeNull();
    }
    // And they did not spend the IP's default budget either: all of it is left.
    const reads = await burst(defaultBudget + 1, () =>
      edgeFetch('/v1/models', { headers: { 'cf-connecting-ip': ip } }),
    );
    expect(reads).toMatchObject({ allowed: defaultBudget, limited: 1 });
  });

  it("never limits Stripe's webhook, however often Stripe retries", async () => {
    const ip = newClientIp();
    const body = JSON.stringify({ id: `evt_${crypto.randomUUID()}`, type: 'ping' });
    const signature = await signStripe(body);
    const { answers, allowed } = await burst(defaultBudget + 5, () =>
      edgeFetch('/v1/webhooks/stripe', {
        method: 'POST',
        headers: { 'cf-connecting-ip': ip, 'stripe-signature': signature },
        body,
      }),
    );
    expect(allowed).toBe(defaultBudget + 5);
    for (const res of answers) expect(res.headers.get('ratelimit')).toBeNull();
  });
});

describe('switched off (RATE_LIMIT_ENABLED=false)', () => {
  const unlimited = edgeWith({ RATE_LIMIT_ENABLED: 'false' });

  it('never answers 429 and sends no RateLimit headers', async () => {
    const token = madeUpToken();
    const { answers, allowed } = await burst(jobsBudget * 4, () =>
      unlimited('/v1/jobs', { method: 'POST', headers: bearer(token), body: '{}' }),
    );
    expect(allowed).toBe(jobsBudget * 4);
    for (const res of answers) {
      expect(res.headers.get('ratelimit')).toBeNull();
      expect(res.headers.get('ratelimit-policy')).toBeNull();
    }
  });

  it('changes nothing else', async () => {
    const ip = newClientIp();
    const init = () => ({
      method: 'POST',
      headers: { 'cf-connecting-ip': ip, 'content-type': 'application/json' },
      body: '{"model":"steps"}',
    });
    const on = await edgeFetch('/v1/jobs?x=1', init());
    const off = await unlimited('/v1/jobs?x=1', init());
    expect(off.status).toBe(on.status);
    expect(on.headers.get('ratelimit')).not.toBeNull();
    const strip = (res: Response) =>
      [...res.headers]
        .filter(([k]) => !['ratelimit', 'ratelimit-policy', 'x-request-id', 'date'].includes(k))
        .filter(([k]) => k !== 'content-length');
    expect(strip(off)).toEqual(strip(on));
    const [a, b] = [(await on.json()) as Echoed, (await off.json()) as Echoed];
    expect(b.method).toBe(a.method);
    expect(b.path).toBe(a.path);
    expect(b.body).toBe(a.body);
    expect(Object.keys(b.headers).sort()).toEqual(Object.keys(a.headers).sort());
  });
});
