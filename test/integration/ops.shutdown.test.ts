/**
 * Graceful stop on a real origin process: SIGTERM (the container runtime's signal) and
 * SIGINT (Ctrl-C) drain the origin, then a restart on the same data directory finishes
 * every job with the money right.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import type { Job } from '../../shared/schemas/jobs.ts';
import { type Api, apiClient } from '../helpers/api.ts';
import { creditsOf, expectApiError, submitJob } from '../helpers/expectations.ts';
import { it, type OriginLauncher } from '../helpers/fixtures.ts';
import { logLines } from '../helpers/logs.ts';
import type { OriginProcess } from '../helpers/origin-process.ts';
import { fixtureModels } from '../helpers/paths.ts';
import { type JobMessage, openSocket } from '../helpers/ws-client.ts';

const graceMs = 5_000;
const env = {
  SHUTDOWN_GRACE_MS: String(graceMs),
  // A re-queued job must get its attempt back: with one attempt, a consumed one would
  // make the restart fail it as `interrupted`.
  MAX_ATTEMPTS: '1',
  POOL_THREADS: '2',
  MODEL_DIR: fixtureModels,
};
/** Ends well inside the grace period. */
const shortInput = { steps: 20, stepMs: 100 };
/** Runs for twice the grace period: still running when it is over. */
const longInput = { steps: 100, stepMs: 100 };
const variants = [
  { signal: 'SIGTERM', worker: 'a worker that stops when told', ignoreAbort: false },
  // Like a stuck native call: the stop must not wait for it.
  { signal: 'SIGINT', worker: 'a worker that ignores the stop', ignoreAbort: true },
] as const;
const quickInput = { steps: 2, stepMs: 10 };

const isRunning = (j: Job) => j.status === 'running';
/** Event kinds of a job's stream, progress left out. */
const stateChanges = (events: JobMessage[]) =>
  events.map((e) => e.event).filter((kind) => kind !== 'progress');

/** Starts an origin on `dataDir`: SIGKILLed, if still alive, when the test ends. */
async function start(
  origins: OriginLauncher,
  dataDir: string,
): Promise<{ origin: OriginProcess; api: Api }> {
  const origin = await origins.start({ dataDir, env });
  return { origin, api: apiClient(origin.url) };
}
/** Polls `GET /v1/health` until the origin says it is stopping. */
async function untilStopping(api: Api) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const health = await api.call('GET', '/v1/health');
    if (health.body?.stopping === true) return health;
    if (Date.now() > deadline) throw new Error(`never stopping: ${JSON.stringify(health.body)}`);
    await sleep(10);
  }
}

describe.each(variants)('a graceful stop on $signal, with $worker', ({ signal, ignoreAbort }) => {
  it('drains, re-queues what outlives the grace, closes sockets with 1012 and exits 0; a restart ends every job with the right balances', async ({
    origins,
  }) => {
    const dataDir = origins.dataDir();
    const first = await start(origins, dataDir);
    const alice = await first.api.signUp();
    const bob = await first.api.signUp();

    const long = await submitJob(first.api, alice.token, 'steps', { ...longInput, ignoreAbort });
    await first.api.waitForJob(alice.token, long.id, isRunning);
    const short = await submitJob(first.api, alice.token, 'steps', shortInput);
    const queued: [Job, Job] = [
      await submitJob(first.api, bob.token, 'steps', quickInput),
      await submitJob(first.api, bob.token, 'steps', quickInput),
    ];
    await first.api.waitForJob(alice.token, short.id, isRunning);
    const aliceSocket = await openSocket(first.origin.url, { token: alice.token });
    await aliceSocket.subscribe(long.id, 0);
    const bobSocket = await openSocket(first.origin.url, { token: bob.token });

    const exited = first.origin.kill(signal);
    const health = await untilStopping(first.api);

    // The drain: no new work, reads still answered.
    expect(health.status).toBe(503);
    expect(health.headers.get('retry-after')).toBeTruthy();
    expect(health.body).toMatchObject({ stopping: true, modelsLoaded: true });
    const refused = await first.api.call('POST', '/v1/jobs', {
      token: bob.token,
      body: { model: 'steps', input: quickInput },
    });
    expectApiError(refused, 503, 'not_ready');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const read = await first.api.call<Job>('GET', `/v1/jobs/${long.id}`, { token: alice.token });
    expect(read.status).toBe(200);
    expect(read.body.status).toBe('running');
    const list = await first.api.call('GET', '/v1/jobs', { token: bob.token });
    expect(list.status).toBe(200);
    expect(list.body.data.map((j: Job) => j.status)).toEqual(['queued', 'queued']);
    expect(await creditsOf(first.api, bob.token)).toBe(18);

    // The short job ends within the grace, as a success.
    const shortEnded = await first.api.waitForJob(alice.token, short.id, undefined, graceMs * 2);
    expect(shortEnded).toMatchObject({ status: 'succeeded', error: null });

    expect(await exited).toBe(0);
    // The pipe may still hold the last lines when the exit is reported.
    const deadline = Date.now() + 5_000;
    while (!first.origin.output().includes('"msg":"stopped"') && Date.now() < deadline) {
      await sleep(20);
    }
    const lines = logLines(first.origin.output());
    const at = (predicate: (l: (typeof lines)[number]) => boolean) => lines.findIndex(predicate);
    const stopping = at((l) => l.msg === 'stopping' && l.signal === signal);
    expect(stopping).toBeGreaterThanOrEqual(0);
    // It ran into the stop and finished during the drain, not before it.
    expect(at((l) => l.msg === 'job finished' && l.jobId === short.id)).toBeGreaterThan(stopping);
    expect(lines.find((l) => l.msg.startsWith('grace period over'))).toMatchObject({ requeued: 1 });
    expect(at((l) => l.msg === 'stopped')).toBeGreaterThan(stopping);

    // Sockets were told to reconnect; the long job's re-queue reached its follower first.
    expect(await aliceSocket.closed).toMatchObject({ code: 1012 });
    expect(await bobSocket.closed).toMatchObject({ code: 1012 });
    expect(stateChanges(aliceSocket.jobEvents(long.id))).toEqual(['queued', 'started', 'queued']);

    const second = await start(origins, dataDir);
    const ended: Job[] = [];
    for (const [token, job] of [
      [alice.token, long],
      [alice.token, short],
      [bob.token, queued[0]],
      [bob.token, queued[1]],
    ] as const) {
      ended.push(await second.api.waitForJob(token, job.id, undefined, 40_000));
    }
    for (const job of ended) expect(job).toMatchObject({ status: 'succeeded', error: null });

    // The stored history: the long job ran twice, the queued ones once, after the restart.
    const replay = await openSocket(second.origin.url, { token: alice.token });
    await replay.subscribe(long.id, 0);
    await replay.untilTerminal(long.id);
    expect(stateChanges(replay.jobEvents(long.id))).toEqual([
      'queued',
      'started',
      'queued',
      'started',
      'succeeded',
    ]);
    const bobReplay = await openSocket(second.origin.url, { token: bob.token });
    for (const job of queued) {
      await bobReplay.subscribe(job.id, 0);
      await bobReplay.untilTerminal(job.id);
      expect(stateChanges(bobReplay.jobEvents(job.id))).toEqual(['queued', 'started', 'succeeded']);
    }

    // Money: one debit per job, no refund for a success, balance = grant − successes.
    const owned: [{ token: string }, Job[]][] = [
      [alice, [long, short]],
      [bob, queued],
    ];
    for (const [user, jobs] of owned) {
      const ledger = await second.api.call('GET', '/v1/billing/ledger', { token: user.token });
      expect(ledger.status).toBe(200);
      const rows = ledger.body.data as { reason: string; reference: string; delta: number }[];
      const debits = rows.filter((r) => r.reason === 'job');
      expect(debits.map((r) => r.reference).sort()).toEqual(jobs.map((j) => j.id).sort());
      expect(debits.map((r) => r.delta)).toEqual(jobs.map(() => -1));
      expect(rows.filter((r) => r.reason === 'refund')).toEqual([]);
      const cost = jobs.reduce((sum, j) => sum + j.cost, 0);
      expect(ledger.body.balance).toBe(20 - cost);
      expect(await creditsOf(second.api, user.token)).toBe(20 - cost);
    }
  }, 120_000);
});
