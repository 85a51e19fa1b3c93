/**
 * Attacks on the budgets: credentials a client mints for free, other spellings of one token,
 * many keys of one user, many addresses of one IPv6 /64, and WebSocket upgrades. Each
 * request comes from its own random client IP unless a test fixes one.
 */
import { env } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  awayFromWindowEnd,
  edgeFetch,
  edgeWith,
  expectError,
  newApiKey,
  newClientIp,
  newSession,
  newTag,
  newUserId,
  otherSpellings,
  seenByOrigin,
} from './support.ts';

// Budgets in vitest.config.ts: default 20/60, upgrades 3/60.
const defaultBudget = 20;
const upgradesBudget = 3;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Sends `n` requests at once; answers how many got past the limiter (not 429). */
async function burst(n: number, send: (i: number) => Promise<Response>) {
  const answers = await Promise.all(Array.from({ length: n }, (_, i) => send(i)));
  await Promise.all(answers.map((r) => r.body?.cancel()));
  const limited = answers.filter((r) => r.status === 429).length;
  return { answers, passed: n - limited, limited };
}

const read = (headers: Record<string, string>) => edgeFetch('/v1/models', { headers });

/**
 * What was left of the default budget of whoever `headers` counts against, found by spending
 * it (one request more than the budget, at once): the binding that counts it does not say.
 */
async function leftOf(headers: Record<string, string>): Promise<number> {
  return (await burst(defaultBudget + 1, () => read(headers))).passed;
}

// The default budget is counted in windows of the wall clock's minute: no test straddles one.
beforeEach(() => awayFromWindowEnd());

/** A random /64 in the documentation range, as its first four words. */
const newPrefix64 = () =>
  `2001:db8:${Array.from(crypto.getRandomValues(new Uint16Array(2)), (w) => w.toString(16)).join(':')}`;
const randomWord = () => crypto.getRandomValues(new Uint16Array(1))[0]?.toString(16) ?? '0';

describe('credentials a client mints for free', () => {
  it('count against the IP: N made-up tokens from one IP get the one budget of that IP', async () => {
    const ip = newClientIp();
    const victim = newUserId();
    const forgedKey = (await newApiKey(victim)).replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A'));
    const madeUp = [
      () => `ovt_${crypto.randomUUID().replaceAll('-', '')}`,
      () => `made-up-${crypto.randomUUID()}`,
      // An API key in the new shape naming a real user, its tag made up.
      () => `${forgedKey.slice(0, -22)}${crypto.randomUUID().replaceAll('-', '').slice(0, 22)}`,
      () => newSession(newUserId(), { secret: `another-secret-${crypto.randomUUID()}` }),
      () => newSession(newUserId(), { expiresAt: Math.floor(Date.now() / 1000) - 5 }),
      () => newSession(newUserId(), { issuer: 'evil' }),
    ];
    const tokens = await Promise.all(Array.from({ length: 36 }, (_, i) => madeUp[i % 6]?.()));
    const { passed } = await burst(tokens.length, (i) =>
      read({ 'cf-connecting-ip': ip, ...bearer(tokens[i] ?? '') }),
    );
    expect(passed).toBe(defaultBudget);
    // The same IP with no token at all has nothing left either: one bucket per IP.
    await expectError(await read({ 'cf-connecting-ip': ip }), 429, 'rate_limited');
    // The forged keys named the victim, whose own budget is whole.
    expect(await leftOf(bearer(await newSession(victim)))).toBe(defaultBudget);
  });

  it('an API key of the older format is counted by IP', async () => {
    const ip = newClientIp();
    const oldKey = `ovt_${'A'.repeat(43)}`;
    const { passed } = await burst(defaultBudget + 5, () =>
      read({ 'cf-connecting-ip': ip, ...bearer(oldKey) }),
    );
    expect(passed).toBe(defaultBudget);
    // From another IP the same key has a whole budget: it is the IP that is counted.
    expect(await leftOf({ 'cf-connecting-ip': newClientIp(), ...bearer(oldKey) })).toBe(
      defaultBudget,
    );
  });
});

describe('one JWT in four spellings', () => {
  it('is served in its canonical spelling only; the others are refused without reaching an origin', async () => {
    const token = await newSession();
    const [head, body, signature] = token.split('.') as [string, string, string];
    const spellings = otherSpellings(signature).map((s) => `${head}.${body}.${s}`);
    expect(spellings).toHaveLength(3);
    const tag = newTag();
    for (const spelled of spellings) {
      const res = await edgeFetch('/v1/me', { headers: { ...bearer(spelled), 'x-echo-tag': tag } });
      await expectError(res, 401, 'unauthorized');
    }
    expect(await seenByOrigin(tag)).toEqual([]);
    // The three refusals spent nothing of the user's budget.
    expect(await leftOf(bearer(token))).toBe(defaultBudget);
  });

  it('gives one budget, however the spellings are mixed', async () => {
    const ip = newClientIp();
    const token = await newSession();
    const [head, body, signature] = token.split('.') as [string, string, string];
    const all = [token, ...otherSpellings(signature).map((s) => `${head}.${body}.${s}`)];
    const { answers } = await burst(4 * defaultBudget, (i) =>
      edgeFetch('/v1/me', { headers: { 'cf-connecting-ip': ip, ...bearer(all[i % 4] ?? '') } }),
    );
    // The canonical spelling spends the user's budget; the others are counted by IP and refused.
    expect(answers.filter((r) => r.status === 200)).toHaveLength(defaultBudget);
    expect(answers.filter((r) => r.status === 401)).toHaveLength(defaultBudget);
  });

  it('are refused in every other spelling even when the edge has no JWT_SECRET', async () => {
    const [head, body, signature] = (await newSession()).split('.') as [string, string, string];
    const edge = edgeWith({ JWT_SECRET: undefined });
    for (const spelled of otherSpellings(signature)) {
      const res = await edge('/v1/me', { headers: bearer(`${head}.${body}.${spelled}`) });
      await expectError(res, 401, 'unauthorized');
    }
  });
});

describe('every credential of one user', () => {
  it('K API keys and a session of one user share one budget, from any IP', async () => {
    const userId = newUserId();
    const keys = await Promise.all(Array.from({ length: 5 }, () => newApiKey(userId)));
    const credentials = [...keys, await newSession(userId)];
    const { passed } = await burst(3 * defaultBudget, (i) =>
      read(bearer(credentials[i % credentials.length] ?? '')),
    );
    expect(passed).toBe(defaultBudget);
    // Another user's key is not touched.
    expect(await leftOf(bearer(await newApiKey(newUserId())))).toBe(defaultBudget);
  });

  it('without JWT_SECRET at the edge are counted by IP: never a budget of their own', async () => {
    const edge = edgeWith({ JWT_SECRET: undefined });
    const ip = newClientIp();
    const userId = newUserId();
    const credentials = [await newApiKey(userId), await newSession(userId), await newSession()];
    const { passed } = await burst(2 * defaultBudget, (i) =>
      edge('/v1/models', {
        headers: { 'cf-connecting-ip': ip, ...bearer(credentials[i % 3] ?? '') },
      }),
    );
    expect(passed).toBe(defaultBudget);
  });
});

describe('client addresses', () => {
  it('count IPv6 by its /64: many addresses of one /64 get one budget', async () => {
    const prefix = newPrefix64();
    const { passed } = await burst(2 * defaultBudget, () =>
      read({ 'cf-connecting-ip': `${prefix}:${randomWord()}:${randomWord()}:${randomWord()}:1` }),
    );
    expect(passed).toBe(defaultBudget);
    // Another /64 is another client.
    expect(await leftOf({ 'cf-connecting-ip': `${newPrefix64()}::1` })).toBe(defaultBudget);
  });

  it('read one /64 however its address is written', async () => {
    const [a, b, c, d] = crypto.getRandomValues(new Uint16Array(4));
    const hex = (w = 0) => w.toString(16);
    const spellings = [
      `2001:db8:${hex(a)}:${hex(b)}::${hex(c)}`,
      `2001:0DB8:${hex(a).padStart(4, '0').toUpperCase()}:${hex(b)}:0:0:${hex(c)}:${hex(d)}`,
      `2001:db8:${hex(a)}:${hex(b)}:1:2:3.4.5.6`,
    ];
    const { passed } = await burst(defaultBudget + 6, (i) =>
      read({ 'cf-connecting-ip': spellings[i % 3] ?? '' }),
    );
    expect(passed).toBe(defaultBudget);
  });

  it('count an IPv4-mapped IPv6 address as its IPv4 address', async () => {
    const [x, y] = crypto.getRandomValues(new Uint8Array(2));
    const v4 = `198.18.${x}.${y}`;
    const { passed } = await burst(defaultBudget + 6, (i) =>
      read({ 'cf-connecting-ip': i % 2 ? v4 : `::ffff:${v4}` }),
    );
    expect(passed).toBe(defaultBudget);
  });
});

describe('WebSocket upgrades', () => {
  const upgrade = (query: string, headers: Record<string, string> = {}) =>
    edgeFetch(`/v1/ws${query}`, { headers: { upgrade: 'websocket', ...headers } });
  /** Upgrades `n` at once; answers the statuses, closing every socket that opened. */
  async function upgrades(n: number, send: (i: number) => Promise<Response>) {
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => send(i)));
    for (const res of answers) {
      if (res.webSocket) {
        res.webSocket.accept();
        res.webSocket.close(1000);
      }
    }
    return answers;
  }

  it('have a budget of their own per user: past it, 429 with Retry-After and its headers', async () => {
    const token = await newSession();
    const answers = await upgrades(upgradesBudget + 3, () =>
      upgrade(`?token=${encodeURIComponent(token)}`),
    );
    expect(answers.filter((r) => r.status === 101)).toHaveLength(upgradesBudget);
    const refused = answers.filter((r) => r.status !== 101);
    expect(refused).toHaveLength(3);
    for (const res of refused) {
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(res.headers.get('ratelimit-policy')).toBe(`"upgrades";q=${upgradesBudget};w=60`);
      await expectError(res, 429, 'rate_limited');
    }
    // The upgrades spent nothing of the user's default budget.
    expect(await leftOf(bearer(token))).toBe(defaultBudget);
  });

  it('with a made-up token, or none, are counted by IP', async () => {
    const ip = newClientIp();
    const answers = await upgrades(2 * upgradesBudget, (i) =>
      upgrade(i % 2 ? `?token=made-up-${crypto.randomUUID()}` : '', { 'cf-connecting-ip': ip }),
    );
    expect(answers.filter((r) => r.status === 101)).toHaveLength(upgradesBudget);
  });

  it('count an API key in the Authorization header by its user', async () => {
    const userId = newUserId();
    const answers = await upgrades(upgradesBudget + 2, async () =>
      upgrade('', bearer(await newApiKey(userId))),
    );
    expect(answers.filter((r) => r.status === 101)).toHaveLength(upgradesBudget);
  });

  it('are not limited when rate limiting is off', async () => {
    const edge = edgeWith({ RATE_LIMIT_ENABLED: 'false' });
    const ip = newClientIp();
    const answers = await upgrades(upgradesBudget + 2, () =>
      edge('/v1/ws', { headers: { upgrade: 'websocket', 'cf-connecting-ip': ip } }),
    );
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 101));
  });
});

it('the edge project has a JWT_SECRET (the tests above rely on it)', () => {
  expect(env.JWT_SECRET).toEqual(expect.any(String));
});
