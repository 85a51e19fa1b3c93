/**
 * Chaos: the edge's budgets under the attacks that used to get around them, on a real origin
 * behind a real edge (`wrangler dev`) that share a JWT secret. Made-up bearer tokens, other
 * spellings of one JWT, many API keys of one user, many addresses of one IPv6 /64 and
 * WebSocket upgrades each get exactly the one budget they are due, and no more.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { beforeEach, describe, expect } from 'vitest';
import type { ApiAnswer } from '../helpers/api.ts';
import type { EdgePair } from '../helpers/edge-pair.ts';
import { expectApiError } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { awayFromWindowEnd } from '../helpers/rate-limit-window.ts';
import { upgradeStatus, wsUrl } from '../helpers/ws-client.ts';
import { Figures } from './figures.ts';

const jwtSecret = `jwt-${randomBytes(24).toString('hex')}`;
/**
 * Upgrades with an hour's window: no token comes back during a burst of a few seconds. The
 * default budget is counted by the rate-limiting binding, per minute (it knows 10 and 60
 * seconds only): each test runs within one minute of the wall clock.
 */
const budgets = { default: 40, upgrades: 5 };
it.override({
  pairOptions: {
    originEnv: { JWT_SECRET: jwtSecret },
    edgeVars: {
      RATE_LIMIT_DEFAULT: `${budgets.default}/60`,
      RATE_LIMIT_UPGRADES: `${budgets.upgrades}/3600`,
      RATE_LIMIT_AUTH: '100/3600',
    },
  },
});

/** One figure per kind: `tried` requests, `held` of them answered as the budget says. */
const figures = new Figures('trust');

let lastOctets = 0;
/** An IPv4 client address of its own (`cf-connecting-ip`, which `wrangler dev` passes on). */
const newIp = () => {
  lastOctets++;
  return `198.18.${lastOctets >> 8}.${lastOctets & 0xff}`;
};
const from = (ip: string) => ({ 'cf-connecting-ip': ip });

/** Sends `n` requests at once and answers them in order. */
const burst = (n: number, send: (i: number) => Promise<ApiAnswer>) =>
  Promise.all(Array.from({ length: n }, (_, i) => send(i)));
const limited = (answers: ApiAnswer[]) => answers.filter((r) => r.status === 429);

/** Every 429 is the API's `rate_limited` with `Retry-After`. */
function expectRefusals(answers: ApiAnswer[]) {
  for (const r of limited(answers)) {
    expectApiError(r, 429, 'rate_limited');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  }
}

/**
 * What was left of the default budget of whoever `token` counts against, found by spending
 * it (one request more than the budget, at once, each from an address of its own): the
 * binding that counts it does not say.
 */
async function left(pair: EdgePair, token: string): Promise<number> {
  const answers = await burst(budgets.default + 1, () =>
    pair.api.call('GET', '/v1/me', { token, headers: from(newIp()) }),
  );
  return answers.length - limited(answers).length;
}

beforeEach(() => awayFromWindowEnd(10_000));

const signUp = async (pair: EdgePair) => {
  const res = await pair.api.call('POST', '/v1/auth/register', {
    body: { email: `budget-${randomUUID()}@example.test`, password: 'correct horse battery' },
  });
  expect(res.status, res.text).toBe(201);
  return { id: res.body.user.id as string, token: res.body.token as string };
};

/** The other spellings of a 43-character signature (its last character has 2 unused bits). */
function otherSpellings(part: string): string[] {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(part.at(-1) ?? '');
  return [1, 2, 3].map((i) => part.slice(0, -1) + alphabet[(last & ~3) | ((last + i) & 3)]);
}

describe('made-up credentials', () => {
  it('N made-up tokens from one IP at a budget of Q: exactly Q pass', async ({ pair }) => {
    const victim = await signUp(pair);
    const key = await pair.api.call('POST', '/v1/api-keys', {
      token: victim.token,
      body: { name: 'real' },
    });
    expect(key.status).toBe(201);
    const realKey = key.body.key as string;
    const now = Math.floor(Date.now() / 1000);
    const jwt = (secret: string, exp: number) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(victim.id)
        .setIssuer('overture')
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(secret));
    const kinds: (() => Promise<string> | string)[] = [
      () => `ovt_${randomBytes(32).toString('base64url')}`,
      () => `made-up-${randomUUID()}`,
      // The victim's id in a key of the new shape, its tag made up.
      () => `${realKey.slice(0, -22)}${randomBytes(16).toString('base64url')}`,
      () => jwt(`another-secret-${randomUUID()}`, now + 600),
      () => jwt(jwtSecret, now - 60),
    ];
    const n = 5 * budgets.default;
    const tokens = await Promise.all(Array.from({ length: n }, (_, i) => kinds[i % 5]?.() ?? ''));
    const ip = newIp();
    const answers = await burst(n, (i) =>
      pair.api.call('GET', '/v1/me', { token: tokens[i], headers: from(ip) }),
    );
    expectRefusals(answers);
    const passed = n - limited(answers).length;
    // Everything that passed was refused by the origin: none of them is a credential.
    const unauthorized = answers.filter((r) => r.status === 401).length;
    figures.add(
      'N made-up bearer tokens from one IP: exactly Q pass',
      n,
      n - Math.abs(passed - budgets.default),
      `N=${n} distinct tokens (random, forged key tags naming a real user, foreign or expired JWTs) concurrent, Q=${budgets.default}: ${passed} passed, all refused 401 by the origin`,
    );
    expect({ passed, unauthorized }).toEqual({
      passed: budgets.default,
      unauthorized: budgets.default,
    });
    // The forged keys named the victim, whose own budget lost only the key's creation.
    const victimLeft = await left(pair, victim.token);
    figures.add(
      "made-up keys naming a user leave that user's budget whole",
      1,
      victimLeft === budgets.default - 1 ? 1 : 0,
      `${victimLeft} left of ${budgets.default} after the key's creation`,
    );
    expect(victimLeft).toBe(budgets.default - 1);
  });
});

describe('one JWT', () => {
  it('in four spellings gets one budget: only the canonical one is served', async ({ pair }) => {
    const user = await signUp(pair);
    const [head, body, signature] = user.token.split('.') as [string, string, string];
    const spellings = [signature, ...otherSpellings(signature)].map((s) => `${head}.${body}.${s}`);
    // 2Q of each spelling, each request from an address of its own: IPs do not add budgets.
    const n = 8 * budgets.default;
    const answers = await burst(n, (i) =>
      pair.api.call('GET', '/v1/me', { token: spellings[i % 4], headers: from(newIp()) }),
    );
    expectRefusals(answers);
    const served = answers.filter((r) => r.status === 200).length;
    const canonicalLimited = answers.filter((r, i) => i % 4 === 0 && r.status === 429).length;
    const othersRefused = answers.filter(
      (r, i) =>
        i % 4 !== 0 &&
        r.status === 401 &&
        /malformed/.test((r.body as { error: { message: string } }).error.message),
    ).length;
    const held = n - Math.abs(served - budgets.default) - Math.abs(othersRefused - (3 * n) / 4);
    figures.add(
      'one JWT in four spellings: one budget',
      n,
      held,
      `${n} requests, 2Q of each spelling, each from its own IP, Q=${budgets.default}: ${served} served (canonical), ${canonicalLimited} canonical 429, ${othersRefused} other spellings refused 401 at the edge`,
    );
    expect({ served, canonicalLimited, othersRefused }).toEqual({
      served: budgets.default,
      canonicalLimited: budgets.default,
      othersRefused: (3 * n) / 4,
    });
  });
});

describe('API keys', () => {
  it('K keys of one user, with its session, get one budget from any IP', async ({ pair }) => {
    const user = await signUp(pair);
    const k = 6;
    const keys: string[] = [];
    for (let i = 0; i < k; i++) {
      const created = await pair.api.call('POST', '/v1/api-keys', {
        token: user.token,
        body: { name: `key ${i}` },
        headers: from(newIp()),
      });
      expect(created.status).toBe(201);
      keys.push(created.body.key);
    }
    // The keys' creation spent the user's budget: the session and the keys are one client.
    const remaining = budgets.default - k;
    const credentials = [...keys, user.token];
    const n = 3 * budgets.default;
    const answers = await burst(n, (i) =>
      pair.api.call('GET', '/v1/me', {
        token: credentials[i % credentials.length],
        headers: from(newIp()),
      }),
    );
    expectRefusals(answers);
    const served = answers.filter((r) => r.status === 200).length;
    figures.add(
      'K API keys of one user: one budget',
      n,
      n - Math.abs(served - remaining),
      `K=${k} keys and the session, N=${n} concurrent from ${n} IPs, ${remaining} left of Q=${budgets.default}: ${served} served`,
    );
    expect(served).toBe(remaining);
  });
});

describe('IPv6', () => {
  it('many addresses of one /64 get one budget; another /64 its own', async ({ pair }) => {
    const n = 3 * budgets.default;
    const word = () => randomBytes(2).toString('hex');
    const answers = await burst(n, () =>
      pair.api.call('GET', '/v1/models', {
        headers: from(`2001:db8:77:1:${word()}:${word()}:${word()}:${word()}`),
      }),
    );
    expectRefusals(answers);
    const passed = n - limited(answers).length;
    const other = await pair.api.call('GET', '/v1/models', { headers: from('2001:db8:77:2::1') });
    const mapped = await burst(budgets.default + 10, (i) =>
      pair.api.call('GET', '/v1/models', {
        headers: from(i % 2 ? '198.51.100.77' : '::ffff:198.51.100.77'),
      }),
    );
    const mappedPassed = mapped.length - limited(mapped).length;
    figures.add(
      'many IPv6 addresses of one /64: one budget',
      n + 1,
      n - Math.abs(passed - budgets.default) + (other.status === 200 ? 1 : 0),
      `N=${n} addresses of 2001:db8:77:1::/64, Q=${budgets.default}: ${passed} passed; the next /64 answered ${other.status}`,
    );
    figures.add(
      'an IPv4-mapped IPv6 address is its IPv4',
      mapped.length,
      mapped.length - Math.abs(mappedPassed - budgets.default),
      `${mapped.length} requests alternating ::ffff:198.51.100.77 and 198.51.100.77: ${mappedPassed} passed`,
    );
    expect({ passed, other: other.status, mappedPassed }).toEqual({
      passed: budgets.default,
      other: 200,
      mappedPassed: budgets.default,
    });
  });
});

describe('WebSocket upgrades', () => {
  it('past their budget are refused, per user and per IP', async ({ pair }) => {
    const user = await signUp(pair);
    const extra = 5;
    const n = budgets.upgrades + extra;
    const statuses = await Promise.all(
      Array.from({ length: n }, () =>
        upgradeStatus(wsUrl(pair.edge.url, user.token), from(newIp())),
      ),
    );
    const ip = newIp();
    const madeUp = await Promise.all(
      Array.from({ length: n }, () =>
        upgradeStatus(wsUrl(pair.edge.url, `made-up-${randomUUID()}`), from(ip)),
      ),
    );
    const count = (list: number[], status: number) => list.filter((s) => s === status).length;
    // Upgrades have their own budget: the user's default budget is whole.
    const userLeft = await left(pair, user.token);
    const held = (list: number[]) =>
      n - Math.abs(count(list, 101) - budgets.upgrades) - Math.abs(count(list, 429) - extra);
    figures.add(
      'upgrades past their budget refused (one user, many IPs)',
      n,
      held(statuses),
      `${n} upgrades at U=${budgets.upgrades}: ${count(statuses, 101)} × 101, ${count(statuses, 429)} × 429; the default budget untouched (${userLeft} left of ${budgets.default})`,
    );
    figures.add(
      'upgrades past their budget refused (made-up tokens, one IP)',
      n,
      held(madeUp),
      `${n} upgrades with distinct made-up tokens at U=${budgets.upgrades}: ${count(madeUp, 101)} × 101, ${count(madeUp, 429)} × 429`,
    );
    expect({ user: statuses.sort(), madeUp: madeUp.sort(), userLeft }).toEqual({
      user: [...Array(budgets.upgrades).fill(101), ...Array(extra).fill(429)],
      madeUp: [...Array(budgets.upgrades).fill(101), ...Array(extra).fill(429)],
      userLeft: budgets.default,
    });
  });
});

describe('the figures', () => {
  it('are recorded, with nothing lost', ({ pair }) => {
    expect(pair.origin.child.exitCode).toBeNull();
    expect(pair.edge.child.exitCode).toBeNull();
    figures.expectNoneLost('trust-budgets', 8);
  });
});
