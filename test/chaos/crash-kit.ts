/**
 * What the crash suites share: bursts of jobs and Stripe events, kills in the middle of
 * them, and the audit of every promise on what exists afterwards (each job terminal, each
 * success readable, one debit per job, a refund iff it did not succeed, each session
 * credited once, balances exact, every acknowledged job still there).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { type Job, terminalStatuses } from '../../shared/schemas/jobs.ts';
import type { Api, ApiAnswer } from '../helpers/api.ts';
import { checkoutSession, signStripe, stripeEvent } from '../helpers/stripe.ts';
import { type Figure, figure } from './figures.ts';
import type { Random } from './seeded.ts';

/** Something to kill mid-burst: `what` says where, for the figures' note. */
export interface Killable {
  kill(signal: 'SIGKILL' | 'SIGTERM', what: string): Promise<void>;
}

/** What the audit reads through: a live origin's API, and the kills made, for the note. */
export interface Audited {
  api: Api;
  kills: string[];
}

export interface User {
  id: string;
  token: string;
}
export interface Session {
  user: User;
  id: string;
  credits: number;
  body: string;
}
export interface LedgerRow {
  delta: number;
  reason: string;
  reference: string;
}

export const isTerminal = (j: Job) => (terminalStatuses as readonly string[]).includes(j.status);
// Two of the default packs (origin/billing/default-packs.json).
export const packs = [
  { id: 'starter', credits: 50, amount: 500 },
  { id: 'studio', credits: 250, amount: 2000 },
] as const;

/** A call that may die with the process: `undefined` when no answer came. */
export const maybe = <T>(p: Promise<ApiAnswer<T>>) => p.catch(() => undefined);

/**
 * Kills the origin in the middle of a burst: once the first answer of `pending` came back
 * (so the others are in flight, some inside their transaction), after 0-3 ms more.
 */
export async function killMidBurst(
  o: Killable,
  pending: Promise<unknown>[],
  random: Random,
  what: string,
  signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL',
): Promise<void> {
  let answered = 0;
  for (const p of pending) void p.then((res) => (res === undefined ? 0 : answered++));
  const deadline = Date.now() + 10_000;
  while (answered === 0 && Date.now() < deadline) await sleep(1);
  const extra = random.int(0, 3);
  await sleep(extra);
  const seen = answered;
  await o.kill(signal, `${what} (${seen}/${pending.length} answered, +${extra}ms)`);
}

/** A random `steps` job: short to medium, about one in six made to fail. */
function randomInput(random: Random) {
  return {
    steps: random.int(2, 10),
    stepMs: random.int(20, 90),
    ...(random.int(0, 5) === 0 ? { fail: true } : {}),
  };
}

export async function listJobs(api: Api, token: string): Promise<Job[]> {
  const res = await api.call<{ data: Job[]; nextCursor: string | null }>(
    'GET',
    '/v1/jobs?limit=100',
    { token },
  );
  expect(res.status).toBe(200);
  expect(res.body.nextCursor).toBeNull();
  return res.body.data;
}

/** Fires `count` job creations per user at once; answers the 202s that came back. */
export async function burstOfJobs(api: Api, users: User[], count: number, random: Random) {
  const sent = users.flatMap((user) =>
    Array.from({ length: count }, () =>
      maybe(
        api.call<Job>('POST', '/v1/jobs', {
          token: user.token,
          body: { model: 'steps', input: randomInput(random) },
        }),
      ).then((res) => ({ user, res })),
    ),
  );
  return sent;
}

export const acknowledged = async (
  sent: Promise<{ user: User; res: ApiAnswer<Job> | undefined }>[],
): Promise<{ user: User; job: Job }[]> =>
  (await Promise.all(sent)).flatMap(({ user, res }) =>
    res?.status === 202 ? [{ user, job: res.body }] : [],
  );

/** Creates jobs one at a time until each user has `n` (counted on what exists); answers them. */
export async function topUpJobs(api: () => Api, users: User[], n: number, random: Random) {
  const made: { user: User; job: Job }[] = [];
  for (const user of users) {
    const have = (await listJobs(api(), user.token)).length;
    for (let i = have; i < n; i++) {
      const res = await api().call<Job>('POST', '/v1/jobs', {
        token: user.token,
        body: { model: 'steps', input: randomInput(random) },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      made.push({ user, job: res.body });
    }
  }
  return made;
}

/**
 * Delivers every session's event at once and kills mid burst; then delivers each again, as
 * Stripe does, each answered 200. Answers the redeliveries, and the tally of the events
 * answered 200 before the kill whose redelivery was a duplicate (they were on disk).
 */
export async function killMidStripeBurst(
  o: Killable & Audited,
  sessions: Session[],
  random: Random,
) {
  const firstTry = sessions.map((s) => maybe(deliverStripe(o.api, s)));
  await killMidBurst(o, firstTry, random, 'Stripe burst');
  const before = await Promise.all(firstTry);
  const acked = { tried: 0, held: 0 };
  const redelivered: Awaited<ReturnType<typeof deliverStripe>>[] = [];
  for (const [i, s] of sessions.entries()) {
    const res = await deliverStripe(o.api, s);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    redelivered.push(res);
    if (before[i]?.status === 200) {
      acked.tried++;
      if (res.body.outcome === 'duplicate') acked.held++;
    }
  }
  return { redelivered, acked };
}

/** Waits until every job of every user is terminal, on the live origin. */
export async function allTerminal(o: Audited, users: User[], timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lists = await Promise.all(users.map((u) => listJobs(o.api, u.token)));
    if (lists.every((jobs) => jobs.every(isTerminal))) return lists;
    if (Date.now() > deadline) {
      throw new Error(
        `jobs never ended: ${JSON.stringify(lists.flat().filter((j) => !isTerminal(j)))}`,
      );
    }
    await sleep(100);
  }
}

/**
 * The promises, measured on what exists: each job terminal, each success readable, one
 * debit per job, a refund exactly for each job that did not succeed, each session credited
 * once, balance == purchases − cost of the successes. Answers the figures.
 */
export async function verify(
  suite: string,
  o: Audited,
  users: User[],
  grant: number,
  sessions: Session[],
  acked: { user: User; job: Job }[],
  canceled: Job[],
  note: string,
): Promise<Figure[]> {
  const lists = await allTerminal(o, users);
  const problems: string[] = [];
  const count = {
    jobs: 0,
    readable: 0,
    ledger: 0,
    balances: 0,
    sessions: 0,
    acked: 0,
    canceled: 0,
  };
  const held = { ...count };
  const byId = new Map<string, Job>();
  for (const [u, user] of users.entries()) {
    const jobs = lists[u] as Job[];
    for (const job of jobs) byId.set(job.id, job);
    const ledger = await o.api.call('GET', '/v1/billing/ledger', { token: user.token });
    expect(ledger.status).toBe(200);
    const rows = ledger.body.data as LedgerRow[];
    expect(rows.length).toBeLessThan(100); // the ledger answers the last 100: all of them here
    expect(rows.reduce((s, r) => s + r.delta, 0)).toBe(ledger.body.balance);

    let succeededCost = 0;
    for (const job of jobs) {
      count.jobs++;
      if (isTerminal(job)) held.jobs++;
      else problems.push(`job ${job.id} is ${job.status}`);
      const debits = rows.filter((r) => r.reason === 'job' && r.reference === job.id);
      const refunds = rows.filter((r) => r.reason === 'refund' && r.reference === job.id);
      count.ledger++;
      const refundOk =
        job.status === 'succeeded'
          ? refunds.length === 0
          : refunds.length === 1 && refunds[0]?.delta === job.cost;
      if (debits.length === 1 && debits[0]?.delta === -job.cost && refundOk) held.ledger++;
      else
        problems.push(`job ${job.id} (${job.status}): ${JSON.stringify([...debits, ...refunds])}`);
      if (job.status === 'succeeded') {
        succeededCost += job.cost;
        count.readable++;
        const out = await o.api.call('GET', `/v1/jobs/${job.id}/output`, { token: user.token });
        const text = out.text;
        if (out.status === 200 && text === `done ${job.input.steps} steps\n`) held.readable++;
        else problems.push(`output of ${job.id}: ${out.status} ${JSON.stringify(text)}`);
      }
      if (job.input.fail === true && job.status === 'succeeded') {
        problems.push(`job ${job.id} was made to fail yet succeeded`);
      }
    }
    // No debit or refund for a job that does not exist (a half-written creation).
    const ids = new Set(jobs.map((j) => j.id));
    for (const r of rows) {
      if ((r.reason === 'job' || r.reason === 'refund') && !ids.has(r.reference)) {
        problems.push(`ledger row for no job: ${JSON.stringify(r)}`);
      }
    }
    const mine = sessions.filter((s) => s.user.id === user.id);
    for (const s of mine) {
      count.sessions++;
      const credited = rows.filter((r) => r.reason === 'purchase' && r.reference === s.id);
      if (credited.length === 1 && credited[0]?.delta === s.credits) held.sessions++;
      else problems.push(`session ${s.id}: ${JSON.stringify(credited)}`);
    }
    const purchases = rows.filter((r) => r.reason === 'purchase').length;
    if (purchases !== mine.length) problems.push(`user ${u}: ${purchases} purchase rows`);
    const expected = grant + mine.reduce((s, x) => s + x.credits, 0) - succeededCost;
    const me = await o.api.call('GET', '/v1/me', { token: user.token });
    count.balances++;
    if (me.body.credits === expected) held.balances++;
    else problems.push(`user ${u}: balance ${me.body.credits}, expected ${expected}`);
  }
  // What the origin acknowledged before a kill survived it.
  for (const { job } of acked) {
    count.acked++;
    if (byId.has(job.id)) held.acked++;
    else problems.push(`acknowledged job ${job.id} is gone`);
  }
  for (const job of canceled) {
    count.canceled++;
    if (byId.get(job.id)?.status === 'canceled') held.canceled++;
    else problems.push(`canceled job ${job.id} ended ${byId.get(job.id)?.status}`);
  }

  expect(problems).toEqual([]);
  for (const key of Object.keys(count) as (keyof typeof count)[]) {
    expect(held[key], key).toBe(count[key]);
  }
  const statuses = [...byId.values()].reduce<Record<string, number>>((n, j) => {
    n[j.status] = (n[j.status] ?? 0) + 1;
    return n;
  }, {});
  const row = (c: string, k: keyof typeof count, extra?: string) =>
    figure(suite, c, count[k], held[k], extra);
  const rows = [
    row(
      `jobs terminal after ${o.kills.length} kills`,
      'jobs',
      `${note}; ${JSON.stringify(statuses)}`,
    ),
    row('succeeded jobs with readable output', 'readable'),
    row('jobs with 1 debit, refund iff not succeeded', 'ledger'),
    row('acknowledged (202) jobs survived the kill', 'acked'),
    row('canceled-while-queued jobs ended canceled', 'canceled'),
    row('user balances exact', 'balances'),
  ];
  if (sessions.length > 0) rows.push(row('Stripe sessions credited exactly once', 'sessions'));
  return rows.filter((r) => r.tried > 0);
}

/** Cancels up to `n` queued jobs of these users; answers those the origin canceled. */
export async function cancelQueued(api: Api, users: User[], n: number): Promise<Job[]> {
  const canceled: Job[] = [];
  for (const user of users) {
    if (canceled.length >= n) break;
    const queued = (await listJobs(api, user.token)).filter((j) => j.status === 'queued');
    const victim = queued.at(-1);
    if (!victim) continue;
    const res = await api.call<Job>('POST', `/v1/jobs/${victim.id}/cancel`, { token: user.token });
    expect([200, 409], JSON.stringify(res.body)).toContain(res.status);
    if (res.status === 200) {
      expect(res.body.status).toBe('canceled');
      canceled.push(res.body);
    }
  }
  return canceled;
}

/**
 * Signs up `count` users with two Checkout Sessions each (seeded packs), and the signed
 * `checkout.session.completed` event of each, not delivered yet: Stripe mode has no grant,
 * the credits come from these purchases.
 */
export async function usersWithCheckouts(
  api: () => Api,
  count: number,
  random: Random,
): Promise<{ users: User[]; sessions: Session[] }> {
  const users: User[] = [];
  const sessions: Session[] = [];
  for (let u = 0; u < count; u++) {
    const user = await api().signUp();
    users.push(user);
    for (let n = 0; n < 2; n++) {
      const pack = random.pick(packs);
      const res = await api().call('POST', '/v1/billing/checkout', {
        token: user.token,
        body: { pack: pack.id },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const id = res.body.sessionId as string;
      const session = checkoutSession({ id, userId: user.id, pack: pack.id, amount: pack.amount });
      const body = JSON.stringify(stripeEvent('checkout.session.completed', session));
      sessions.push({ user, id, credits: pack.credits, body });
    }
  }
  return { users, sessions };
}

/** Delivers a session's event as Stripe does, signed. */
export const deliverStripe = (api: Api, s: Session) =>
  api.call('POST', '/v1/webhooks/stripe', {
    body: s.body,
    headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(s.body) },
  });
