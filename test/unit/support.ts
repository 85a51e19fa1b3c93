import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { signupCredits } from '../../origin/billing/signup-credits.ts';
import { newId } from '../../origin/lib/ids.ts';
import type { JobRecord, UserRecord } from '../../origin/store/records.ts';
import { openSqliteStore } from '../../origin/store/sqlite/index.ts';
import type { Claim, JobEnding, JobOutputRecord, NewJob, Store } from '../../origin/store/store.ts';
import type { Job } from '../../shared/schemas/jobs.ts';
import { repoRoot } from '../helpers/paths.ts';

export { repoRoot };
export const shippedModels = join(repoRoot, 'models');
export const fixtureModels = join(repoRoot, 'test/fixtures/models');

/** A fresh temporary folder, removed when the test finishes. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'overture-unit-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A store on a real SQLite file, in a temporary folder by default; closed when the test ends. */
export function tempStore(file = join(tempDir(), 'x.sqlite')): Store {
  const store = openSqliteStore(file);
  onTestFinished(() => store.close());
  return store;
}

/** The owner and lease of the claims tests make. */
export const testOwner = 'origin-test';
export const testLeaseMs = 60_000;

let users = 0;

/** A user with a unique email and `grant` credits. */
export async function makeUser(store: Store, grant = 100): Promise<UserRecord> {
  const at = Date.now();
  const user = {
    id: newId('usr', at),
    email: `user${++users}-${process.pid}@example.test`,
    passwordHash: 'not-a-real-hash',
    balance: grant,
    webhookSecret: 'whsec_test',
    createdAt: at,
    sessionVersion: 0,
    isAdmin: false,
    lastStartedAt: null,
  };
  const created = await store.accounts.createUser(user, signupCredits(user.id, grant, at));
  if (created === 'email_taken') throw new Error('factory emails are unique');
  return created;
}

let requests = 0;

/** The input of `store.jobs.create` for a unique request of the `steps` model. */
export function newJob(userId: string, overrides: Partial<NewJob> = {}): NewJob {
  const n = ++requests;
  const at = Date.now();
  return {
    id: newId('job', at),
    at,
    userId,
    model: 'steps',
    modelVersion: '1.0.0',
    input: { steps: 1, stepMs: 0, n },
    cost: 1,
    idempotencyKey: undefined,
    requestHash: `hash-${n}`,
    userJobLimit: 1_000,
    queueLimit: 1000,
    ...overrides,
  };
}

/** Creates a job that must be accepted, and answers it. */
export async function createdJob(
  store: Store,
  userId: string,
  overrides: Partial<NewJob> = {},
): Promise<Job> {
  const result = await store.jobs.create(newJob(userId, overrides));
  if (result.kind !== 'created') throw new Error(`expected a created job, got ${result.kind}`);
  return result.job;
}

/** Claims the next queued job for `owner`, which must be there. */
export async function claimNext(
  store: Store,
  at = Date.now(),
  owner = testOwner,
  leaseMs = testLeaseMs,
): Promise<{ job: JobRecord; claim: Claim }> {
  const claimed = await store.jobs.claim(owner, at, leaseMs);
  if (!claimed) throw new Error('expected a queued job to claim');
  return claimed;
}

/**
 * Random runs of job operations, as origins make them: claims are kept, a cancel is the
 * user's (any open job), a success or failure is the claim's (a queued job gets neither).
 */
export function jobDriver(store: Store) {
  const claims = new Map<string, Claim>();
  return {
    async claim(): Promise<JobRecord | undefined> {
      const claimed = await store.jobs.claim(testOwner, Date.now(), testLeaseMs);
      if (claimed) claims.set(claimed.job.id, claimed.claim);
      return claimed?.job;
    },
    async end(jobId: string, ending: JobEnding) {
      if (ending.status === 'canceled') return store.jobs.cancel(jobId, Date.now());
      const claim = claims.get(jobId);
      return claim && store.jobs.finish(claim, ending, Date.now());
    },
  };
}

/** The user's `refund` ledger rows. */
export async function refundsOf(store: Store, userId: string) {
  return (await store.ledger.entries(userId, 10_000)).filter((e) => e.reason === 'refund');
}

export const anOutput: JobOutputRecord = {
  file: 'x.txt',
  contentType: 'text/plain',
  bytes: 3,
  etag: 'abc',
  runMs: 5,
};
export const succeeded: JobEnding = { status: 'succeeded', output: anOutput };
export const failed = {
  status: 'failed',
  error: { code: 'model_error', message: 'boom' },
} as const satisfies JobEnding;

/** Polls `check` until it returns a value other than undefined/false, or fails after `ms`. */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 10_000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A seeded pseudo-random generator (mulberry32), so a property test replays exactly.
 *
 * @example
 * const rand = prng(42); rand.int(6); // 0..5
 */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number): number => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new Error('pick from an empty list');
      return item;
    },
  };
}
