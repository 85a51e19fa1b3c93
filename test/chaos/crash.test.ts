/**
 * An origin killed again and again while it works: dozens of jobs from several users,
 * queued and running, some failing, some canceled, while Stripe events arrive. The
 * origin is SIGKILLed at seeded random points (right after a burst of job creations hits
 * the database, in the middle of a burst of Stripe events, while jobs run) and restarted
 * on the same data directory; then the same with SIGTERM. Afterwards every job must be
 * terminal, every success readable, every ledger exact: one debit per job, a refund for
 * each job that did not succeed, each Stripe session credited once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { type Job, terminalStatuses } from '../../shared/schemas/jobs.ts';
import { type Api, type ApiAnswer, apiClient } from '../helpers/api.ts';
import { it, type OriginLauncher } from '../helpers/fixtures.ts';
import type { OriginProcess } from '../helpers/origin-process.ts';
import { fixtureModels } from '../helpers/paths.ts';
import { checkoutSession, signStripe, stripeEvent, stripeModeEnv } from '../helpers/stripe.ts';
import { type Figure, recordFigures } from './figures.ts';
import { type Random, seededRandom } from './seeded.ts';

interface User {
  id: string;
  token: string;
}
interface Session {
  user: User;
  id: string;
  credits: number;
  body: string;
}
interface LedgerRow {
  delta: number;
  reason: string;
  reference: string;
}

const figures: Figure[] = [];
const isTerminal = (j: Job) => (terminalStatuses as readonly string[]).includes(j.status);
// The default packs (origin/billing/default-packs.json).
const packs = [
  { id: 'starter', credits: 50, amount: 500 },
  { id: 'studio', credits: 250, amount: 2000 },
] as const;

/**
 * An origin restarted on one data directory; `api` always talks to the live one. Its
 * origins are the test's: SIGKILLed, and the directory removed, when the test ends.
 */
class Restarting {
  origin!: OriginProcess;
  api!: Api;
  readonly kills: string[] = [];
  readonly origins: OriginLauncher;
  readonly dataDir: string;
  readonly env: Record<string, string>;
  constructor(origins: OriginLauncher, env: Record<string, string>) {
    this.origins = origins;
    this.dataDir = origins.dataDir();
    this.env = env;
  }
  async start() {
    this.origin = await this.origins.start({ dataDir: this.dataDir, env: this.env });
    this.api = apiClient(this.origin.url);
  }
  /** Signals the origin, waits for it to exit, and starts it again on the same data. */
  async kill(signal: 'SIGKILL' | 'SIGTERM', what: string) {
    const code = await this.origin.kill(signal);
    if (signal === 'SIGKILL') expect(this.origin.child.signalCode).toBe('SIGKILL');
    else expect(code, this.origin.output().slice(-2000)).toBe(0);
    this.kills.push(what);
    await this.start();
  }
}

/** A call that may die with the process: `undefined` when no answer came. */
const maybe = <T>(p: Promise<ApiAnswer<T>>) => p.catch(() => undefined);

/**
 * Kills the origin in the middle of a burst: once the first answer of `pending` came back
 * (so the others are in flight, some inside their transaction), after 0-3 ms more.
 */
async function killMidBurst(
  o: Restarting,
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

async function listJobs(api: Api, token: string): Promise<Job[]> {
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
async function burstOfJobs(api: Api, users: User[], count: number, random: Random) {
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

const acknowledged = async (
  sent: Promise<{ user: User; res: ApiAnswer<Job> | undefined }>[],
): Promise<{ user: User; job: Job }[]> =>
  (await Promise.all(sent)).flatMap(({ user, res }) =>
    res?.status === 202 ? [{ user, job: res.body }] : [],
  );

/** Waits until every job of every user is terminal, on the live origin. */
async function allTerminal(o: Restarting, users: User[], timeoutMs = 90_000) {
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
async function verify(
  suite: string,
  o: Restarting,
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
  const row = (c: string, k: keyof typeof count, extra?: string): Figure => ({
    suite,
    case: c,
    tried: count[k],
    held: held[k],
    lost: count[k] - held[k],
    ...(extra ? { note: extra } : {}),
  });
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
async function cancelQueued(api: Api, users: User[], n: number): Promise<Job[]> {
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

it.afterAll(() => {
  if (figures.length > 0) recordFigures('crash', figures);
});

describe('an origin killed at random points while jobs run and Stripe events arrive', () => {
  it('SIGKILL ×6: every job ends, every success is readable, every balance and ledger is exact', async ({
    stripe,
    origins,
  }) => {
    const random = seededRandom(0xc0ffee);
    const started = Date.now();
    const o = new Restarting(origins, {
      ...stripeModeEnv(stripe),
      MODEL_DIR: fixtureModels,
      POOL_THREADS: '2',
      // Six kills must not use up a job's attempts.
      MAX_ATTEMPTS: '10',
    });
    await o.start();

    // Six users, two checkouts each; Stripe mode: no grant, credits come from purchases.
    const users: User[] = [];
    const sessions: Session[] = [];
    for (let u = 0; u < 6; u++) {
      const user = await o.api.signUp();
      users.push(user);
      for (let n = 0; n < 2; n++) {
        const pack = random.pick(packs);
        const res = await o.api.call('POST', '/v1/billing/checkout', {
          token: user.token,
          body: { pack: pack.id },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const id = res.body.sessionId as string;
        const session = checkoutSession({
          id,
          userId: user.id,
          pack: pack.id,
          amount: pack.amount,
        });
        const body = JSON.stringify(stripeEvent('checkout.session.completed', session));
        sessions.push({ user, id, credits: pack.credits, body });
      }
    }
    const deliver = (s: Session) =>
      o.api.call('POST', '/v1/webhooks/stripe', {
        body: s.body,
        headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(s.body) },
      });

    // Kill 1: in the middle of a burst of Stripe events. Then Stripe delivers them all again.
    const firstTry = sessions.map((s) => maybe(deliver(s)));
    await killMidBurst(o, firstTry, random, 'Stripe burst');
    const before = await Promise.all(firstTry);
    const stripeAcked = { tried: 0, held: 0 };
    for (const [i, s] of sessions.entries()) {
      const res = await deliver(s);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(['credited', 'duplicate']).toContain(res.body.outcome);
      // An event answered 200 before the kill was on disk: its redelivery is a duplicate.
      if (before[i]?.status === 200) {
        stripeAcked.tried++;
        if (res.body.outcome === 'duplicate') stripeAcked.held++;
      }
    }

    // Kill 2: right after a burst of job creations reached the database.
    const acked: { user: User; job: Job }[] = [];
    let sent = await burstOfJobs(o.api, users, 5, random);
    await killMidBurst(o, sent, random, 'job burst');
    acked.push(...(await acknowledged(sent)));
    const burstCreated = (await Promise.all(users.map((u) => listJobs(o.api, u.token)))).flat()
      .length;

    // Everyone up to ten jobs (counted on what exists), then two canceled while queued.
    for (const user of users) {
      const have = (await listJobs(o.api, user.token)).length;
      for (let i = have; i < 10; i++) {
        const res = await o.api.call<Job>('POST', '/v1/jobs', {
          token: user.token,
          body: { model: 'steps', input: randomInput(random) },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(202);
        acked.push({ user, job: res.body });
      }
    }
    const canceled = await cancelQueued(o.api, users.slice().reverse(), 2);

    // Kills 3 to 6: while jobs run; one of them just after another burst of creations
    // and a redelivery of every Stripe event.
    let runningAtKill = 0;
    for (let k = 3; k <= 6; k++) {
      if (k === 5) {
        sent = await burstOfJobs(o.api, users.slice(0, 3), 2, random);
        const redelivered = sessions.map((s) => maybe(deliver(s)));
        await killMidBurst(o, [...sent, ...redelivered], random, 'job and Stripe burst');
        acked.push(...(await acknowledged(sent)));
        continue;
      }
      const delay = random.int(150, 1200);
      await sleep(delay);
      const health = await o.api.call('GET', '/v1/health');
      runningAtKill += health.body.activeJobs as number;
      await o.kill(
        'SIGKILL',
        `running +${delay}ms (${health.body.activeJobs} running, ${health.body.queueLength} queued)`,
      );
    }

    // The kills while jobs ran did hit running jobs.
    expect(runningAtKill).toBeGreaterThan(0);
    const note = `seed ${random.seed}; ${o.kills.join(', ')}; first burst made ${burstCreated}/30 jobs; ${Math.round((Date.now() - started) / 1000)} s`;
    const measured = await verify('crash', o, users, 0, sessions, acked, canceled, note);
    expect(stripeAcked.held).toBe(stripeAcked.tried);
    figures.push(...measured, {
      suite: 'crash',
      case: 'Stripe events acked before kill were durable',
      ...stripeAcked,
      lost: stripeAcked.tried - stripeAcked.held,
    });
  });

  it('SIGTERM ×3 with a short grace: the same promises hold', async ({ origins }) => {
    const random = seededRandom(0x7e57);
    const started = Date.now();
    const grant = 30;
    const o = new Restarting(origins, {
      MODEL_DIR: fixtureModels,
      POOL_THREADS: '2',
      MAX_ATTEMPTS: '10',
      SHUTDOWN_GRACE_MS: '300',
      FREE_GRANT_CREDITS: String(grant),
    });
    await o.start();
    const users: User[] = [];
    for (let u = 0; u < 4; u++) users.push(await o.api.signUp());

    const acked: { user: User; job: Job }[] = [];
    // Stop 1: right after a burst of creations.
    const sent = await burstOfJobs(o.api, users, 4, random);
    await killMidBurst(o, sent, random, 'job burst', 'SIGTERM');
    acked.push(...(await acknowledged(sent)));

    // Everyone up to eight jobs, counted on what exists.
    for (const user of users) {
      const have = (await listJobs(o.api, user.token)).length;
      const topUp = await burstOfJobs(o.api, [user], 8 - have, random);
      const made = await acknowledged(topUp);
      expect(made).toHaveLength(8 - have);
      acked.push(...made);
    }
    const canceled = await cancelQueued(o.api, users, 2);
    // Stops 2 and 3: while jobs run.
    for (let k = 2; k <= 3; k++) {
      const delay = random.int(150, 1000);
      await sleep(delay);
      await o.kill('SIGTERM', `running +${delay}ms`);
    }
    const note = `seed ${random.seed}; ${o.kills.join(', ')}; ${Math.round((Date.now() - started) / 1000)} s`;
    figures.push(...(await verify('crash-term', o, users, grant, [], acked, canceled, note)));
  });
});
