/**
 * Several origin processes on one PostgreSQL database: any origin accepts a job, any idle
 * one runs it, exactly once; a cancel reaches the origin that runs the job wherever it was
 * sent; a killed origin's jobs run again on a survivor; WebSockets on any origin hear every
 * event, gapless, and resume on another.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { describe, expect } from 'vitest';
import type { Job } from '../../shared/schemas/jobs.ts';
import type { StatsAnswer } from '../../shared/schemas/stats.ts';
import { runAdmin } from '../helpers/admin-command.ts';
import { type Cluster, idOf, jobsStartedBy } from '../helpers/cluster.ts';
import { creditsOf, submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import type { OriginProcess } from '../helpers/origin-process.ts';
import { type JobMessage, openSocket, streamProblems } from '../helpers/ws-client.ts';

const grant = 100;
it.override({
  clusterOptions: { origins: 3, env: { POOL_THREADS: '1', FREE_GRANT_CREDITS: String(grant) } },
});

/** The origin whose log says it started `jobId` (last, if it ran more than once). */
async function runnerOf(cluster: Cluster, jobId: string): Promise<OriginProcess> {
  for (let i = 0; i < 500; i++) {
    const found = cluster.origins.filter((o) => jobsStartedBy(o).includes(jobId));
    if (found.length > 0) return found[found.length - 1] as OriginProcess;
    await sleep(10);
  }
  throw new Error(`no origin started ${jobId}`);
}

describe('a cluster of three origins on one PostgreSQL', () => {
  it('runs every job submitted to any origin exactly once, spread over the origins', async ({
    cluster,
  }) => {
    const { token } = await cluster.api(0).signUp();
    const jobs: Job[] = [];
    for (let i = 0; i < 24; i++) {
      jobs.push(await submitJob(cluster.api(i % 3), token, 'steps', { steps: 2, stepMs: 20 }));
    }
    for (const [i, job] of jobs.entries()) {
      const ended = await cluster.api((i + 1) % 3).waitForJob(token, job.id);
      expect(ended.status).toBe('succeeded');
    }
    const started = cluster.origins.map(jobsStartedBy);
    const all = started.flat().filter((id) => jobs.some((j) => j.id === id));
    expect(all.sort()).toEqual(jobs.map((j) => j.id).sort());
    // Every origin ran some: the queue is the cluster's, not the one that took the request.
    for (const [i, ids] of started.entries()) expect(ids.length, `origin ${i}`).toBeGreaterThan(0);
    expect(await creditsOf(cluster.api(2), token)).toBe(grant - jobs.length);
  });

  it('serves a small output, kept in PostgreSQL with its job, from every origin', async ({
    cluster,
  }) => {
    const { token } = await cluster.api(0).signUp();
    const job = await submitJob(cluster.api(0), token, 'steps', { steps: 4, stepMs: 0 });
    const done = await cluster.api(1).waitForJob(token, job.id);
    expect(done.status).toBe('succeeded');
    for (let i = 0; i < 3; i++) {
      const output = await cluster.api(i).call('GET', `/v1/jobs/${job.id}/output`, { token });
      expect(output.status, `origin ${i}`).toBe(200);
      expect(output.text).toBe('done 4 steps\n');
      const part = await cluster
        .api(i)
        .call('GET', `/v1/jobs/${job.id}/output`, { token, headers: { range: 'bytes=0-3' } });
      expect(part.status).toBe(206);
      expect(part.text).toBe('done');
    }
  });

  it('a WebSocket on another origin hears every event of a running job, and resumes on a third', async ({
    cluster,
  }) => {
    const { token } = await cluster.api(0).signUp();
    const job = await submitJob(cluster.api(0), token, 'steps', { steps: 30, stepMs: 25 });
    const runner = await runnerOf(cluster, job.id);
    const [b, c] = cluster.origins.filter((o) => o !== runner) as [OriginProcess, OriginProcess];

    const first = await openSocket(b.url, { token });
    await first.subscribe(job.id, 0);
    await first.waitFor((m) => m.type === 'job' && m.seq >= 6, { timeoutMs: 10_000 });
    first.ws.close();
    await first.whenClosed();
    const heard = first.jobEvents(job.id);
    const last = heard.at(-1)?.seq ?? 0;

    const second = await openSocket(c.url, { token });
    await second.subscribe(job.id, last);
    const resumed = await second.untilTerminal(job.id, 15_000);
    second.ws.close();

    const stream: JobMessage[] = [...heard, ...resumed];
    expect(streamProblems(stream)).toEqual([]);
    expect(stream.at(-1)?.event).toBe('succeeded');
    expect(idOf(runner)).not.toBe(idOf(b));
  });

  it('a cancel sent to another origin ends the job at once, refunded once, and frees its thread', async ({
    cluster,
  }) => {
    const { token } = await cluster.api(0).signUp();
    const slow = await submitJob(cluster.api(0), token, 'steps', { steps: 400, stepMs: 25 });
    const runner = await runnerOf(cluster, slow.id);
    const elsewhere = cluster.origins.find((o) => o !== runner) as OriginProcess;
    const api = cluster.api(cluster.origins.indexOf(elsewhere));
    await api.waitForJob(token, slow.id, (j) => j.status === 'running' && j.progress > 0);

    const canceled = await api.call<Job>('POST', `/v1/jobs/${slow.id}/cancel`, { token });
    expect(canceled.status).toBe(200);
    expect(canceled.body.status).toBe('canceled');
    expect(await creditsOf(api, token)).toBe(grant);
    // The runner heard it and stopped its worker (which had ~10 s of steps left): its one
    // job slot is free again within a moment.
    const runnerApi = cluster.api(cluster.origins.indexOf(runner));
    const freedBy = Date.now() + 3_000;
    for (;;) {
      const health = await runnerApi.call<{ activeJobs: number }>('GET', '/v1/health');
      if (health.body.activeJobs === 0) break;
      expect(Date.now()).toBeLessThan(freedBy);
      await sleep(50);
    }
    const after = await runnerApi.call<Job>('GET', `/v1/jobs/${slow.id}`, { token });
    expect(after.body).toMatchObject({ status: 'canceled', output: null });
    const next = [];
    for (let i = 0; i < 3; i++)
      next.push(await submitJob(api, token, 'steps', { steps: 1, stepMs: 0 }));
    for (const j of next) expect((await api.waitForJob(token, j.id)).status).toBe('succeeded');
    expect(await creditsOf(api, token)).toBe(grant - 3);
  });

  it("answers an administrator's stats on any origin with the cluster's load: running jobs per origin, the queue", async ({
    cluster,
  }) => {
    const admin = await cluster.api(0).signUp();
    const granted = await runAdmin(['grant', admin.email], { DATABASE_URL: cluster.databaseUrl });
    expect(granted.code, granted.stderr).toBe(0);
    // One thread per origin: three long jobs run one on each origin, a fourth waits.
    const users = await Promise.all([0, 1, 2, 3].map((i) => cluster.api(i % 3).signUp()));
    const jobs: { token: string; job: Job }[] = [];
    for (const [i, user] of users.entries()) {
      const job = await submitJob(cluster.api(i % 3), user.token, 'steps', {
        steps: 400,
        stepMs: 25,
      });
      jobs.push({ token: user.token, job });
    }
    const states = async () =>
      Promise.all(
        jobs.map(
          async ({ token, job }) =>
            (await cluster.api(0).call<Job>('GET', `/v1/jobs/${job.id}`, { token })).body.status,
        ),
      );
    for (let i = 0; i < 500 && (await states()).filter((s) => s === 'running').length < 3; i++) {
      await sleep(20);
    }
    expect((await states()).sort()).toEqual(['queued', 'running', 'running', 'running']);
    for (let i = 0; i < 3; i++) {
      const res = await cluster
        .api(i)
        .call<StatsAnswer>('GET', '/v1/stats?window=1h&scope=all&bucket=auto', {
          token: admin.token,
        });
      expect(res.status).toBe(200);
      expect(res.body.now, `asked origin-${i}`).toMatchObject({
        queued: 1,
        running: 3,
        models: [{ model: 'steps', queued: 1, running: 3 }],
        origins: [
          { originId: 'origin-0', running: 1 },
          { originId: 'origin-1', running: 1 },
          { originId: 'origin-2', running: 1 },
        ],
      });
    }
    for (const { token, job } of jobs) {
      expect(
        (await cluster.api(1).call<Job>('POST', `/v1/jobs/${job.id}/cancel`, { token })).status,
      ).toBe(200);
    }
  });
});

describe('events across origins when hints are lost', () => {
  it("a WebSocket hears a job to its end though its origin's listening connection was cut", async ({
    cluster,
  }) => {
    const { token } = await cluster.api(0).signUp();
    const job = await submitJob(cluster.api(0), token, 'steps', { steps: 60, stepMs: 50 });
    const runner = await runnerOf(cluster, job.id);
    const listener = cluster.origins.find((o) => o !== runner) as OriginProcess;
    const socket = await openSocket(listener.url, { token });
    await socket.subscribe(job.id, 0);
    await socket.waitFor((m) => m.type === 'job' && m.seq >= 3, { timeoutMs: 10_000 });
    // The database ends every LISTEN session: notifications sent until each origin's
    // listener reconnects are lost to it.
    const admin = new pg.Client({ connectionString: cluster.databaseUrl });
    await admin.connect();
    try {
      const cut = await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query ILIKE 'LISTEN%'",
      );
      expect(cut.rowCount).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    const events = await socket.untilTerminal(job.id, 20_000);
    expect(streamProblems(events)).toEqual([]);
    expect(events.at(-1)?.event).toBe('succeeded');
    socket.ws.close();
  });

  it('queue moves reach a socket on any origin: positions are the cluster queue', async ({
    cluster,
  }) => {
    const { token } = await cluster.api(0).signUp();
    // One thread per origin: three long jobs hold every thread, the next two wait. Ending one
    // of the three (a cancel) lets `first` in, and `second` moves up: a move no timing decides.
    const hold = { steps: 400, stepMs: 25 };
    const long = [];
    for (let i = 0; i < 3; i++) long.push(await submitJob(cluster.api(i), token, 'steps', hold));
    for (const job of long) {
      await cluster.api(0).waitForJob(token, job.id, (j) => j.status === 'running', 10_000);
    }
    const first = await submitJob(cluster.api(1), token, 'steps', hold);
    const second = await submitJob(cluster.api(2), token, 'steps', { steps: 1, stepMs: 0 });
    expect([first.queuePosition, second.queuePosition]).toEqual([1, 2]);
    const socket = await openSocket(cluster.origins[0]?.url ?? '', { token });
    expect(await socket.subscribe(second.id)).toMatchObject({ job: { queuePosition: 2 } });
    const cancel = (i: number, id: string) =>
      cluster.api(i).call('POST', `/v1/jobs/${id}/cancel`, { token });
    // Canceled through another origin than the socket's.
    expect((await cancel(1, long[0]?.id ?? '')).status).toBe(200);
    const moved = await socket.waitFor(
      (m) => m.type === 'queue' && m.jobId === second.id && m.queuePosition === 1,
      { timeoutMs: 15_000 },
    );
    expect(moved).toMatchObject({ type: 'queue', queuePosition: 1 });
    for (const job of [...long.slice(1), first]) await cancel(2, job.id);
    await socket.untilTerminal(second.id, 15_000);
    socket.ws.close();
  });
});

describe('a cluster losing an origin', () => {
  it("runs a SIGKILLed origin's running job again on a survivor, charged once", async ({
    cluster,
  }) => {
    const extra = await cluster.add('origin-victim', { env: { POOL_THREADS: '1' } });
    const { token } = await cluster.api(0).signUp();
    // Enough long jobs that the victim surely runs one.
    const jobs: Job[] = [];
    for (let i = 0; i < 8; i++) {
      jobs.push(await submitJob(cluster.api(0), token, 'steps', { steps: 40, stepMs: 25 }));
    }
    const victimJob = await (async () => {
      for (let i = 0; i < 500; i++) {
        const mine = jobsStartedBy(extra).find((id) => jobs.some((j) => j.id === id));
        if (mine) return mine;
        await sleep(10);
      }
      throw new Error('the victim started no job');
    })();
    const killedAt = Date.now();
    await extra.kill('SIGKILL');

    const api = cluster.api(0);
    const again = await api.waitForJob(
      token,
      victimJob,
      (j) => j.status === 'running' && j.startedAt !== null && Date.parse(j.startedAt) > killedAt,
      15_000,
    );
    expect(again.status).toBe('running');
    for (const job of jobs)
      expect((await api.waitForJob(token, job.id, undefined, 30_000)).status).toBe('succeeded');
    expect(await creditsOf(api, token)).toBe(grant - jobs.length);
    const survivors = cluster.origins.filter((o) => o !== extra);
    expect(survivors.some((o) => jobsStartedBy(o).includes(victimJob))).toBe(true);
    cluster.origins.splice(cluster.origins.indexOf(extra), 1);
  });
});
