import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { apiClient } from '../../test/helpers/api.ts';
import { type Cluster, idOf } from '../../test/helpers/cluster.ts';
import type { OriginProcess } from '../../test/helpers/origin-process.ts';
import { median, round } from '../lib/stats.ts';

/** One SIGKILL, split where the origin's own timers split it (all ms from the kill). */
interface Sample {
  /** The last of the victim's jobs running again on the survivor. */
  total: number;
  /** The victim's last lease renewal still held its jobs this long. */
  leaseLeft: number;
  /** Lease ended → a sweep put the jobs back in the queue. */
  sweepWait: number;
  /** Back in the queue → running on the survivor. */
  claim: number;
  jobs: number;
}

interface JobRow {
  id: string;
  status: string;
  claimed_by: string | null;
  started_at: string | null;
  lease_until: string | null;
}

/** Polls `read` every 10 ms until it answers something, or throws after `timeoutMs`. */
async function until<T>(what: string, timeoutMs: number, read: () => Promise<T | undefined>) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await read();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`failover: ${what} within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/**
 * Kills an origin that runs jobs and times how long its jobs wait: `kills` times, each on a
 * fresh victim beside `cluster.origins[0]`, the survivor. The victim accepts as many long
 * jobs as it has threads and claims some of them (both origins race for each claim), so
 * the survivor has a free thread for each of the victim's; the kill lands at a random point
 * of the victim's heartbeat. Times come from the database (the same clock as this process).
 */
export async function failover(
  cluster: Cluster,
  options: { kills: number; threads: number; leaseMs: number; sweepMs: number },
) {
  const { threads, leaseMs, sweepMs } = options;
  const [survivor] = cluster.origins;
  if (!survivor) throw new Error('failover: the cluster has no origin');
  const survivorId = idOf(survivor);
  const db = new pg.Client({ connectionString: cluster.databaseUrl });
  await db.connect();
  const rows = async (ids: string[]) =>
    (
      await db.query<JobRow>(
        'SELECT id, status, claimed_by, started_at, lease_until FROM jobs WHERE id = ANY($1)',
        [ids],
      )
    ).rows;
  // Long enough to be running still at the latest kill (one heartbeat after they start).
  const longJob = { steps: Math.ceil((leaseMs / 3 + 3_000) / 100), stepMs: 100 };
  const samples: Sample[] = [];
  try {
    for (let k = 0; k < options.kills; k++) {
      const victim: OriginProcess =
        (k === 0 ? cluster.origins[1] : undefined) ?? (await cluster.add(`victim-${k}`));
      const victimId = idOf(victim);
      const { token } = await apiClient(victim.url).signUp();
      const submit = async () => {
        const api = apiClient(victim.url);
        const submitted: string[] = [];
        for (let i = 0; i < threads; i++) {
          const body = { model: 'steps', input: longJob };
          const res = await api.call('POST', '/v1/jobs', { token, body });
          if (res.status !== 202) throw new Error(`failover: submit ${res.status}`);
          submitted.push(res.body.id as string);
        }
        return submitted;
      };
      const cancel = async (origin: OriginProcess, jobs: string[]) => {
        const api = apiClient(origin.url);
        for (const id of jobs) await api.call('POST', `/v1/jobs/${id}/cancel`, { token });
      };
      // The survivor wins the claim of some jobs the victim accepted: again until it runs some.
      let ids: string[] = [];
      let theirs: string[] = [];
      for (let attempt = 0; theirs.length === 0; attempt++) {
        if (attempt === 5) throw new Error('failover: the survivor claimed every job, 5 times');
        await cancel(victim, ids);
        ids = await submit();
        theirs = await until('every job running', 10_000, async () => {
          const now = await rows(ids);
          if (now.some((r) => r.status !== 'running')) return undefined;
          return now.filter((r) => r.claimed_by === victimId).map((r) => r.id);
        });
      }
      await sleep(Math.random() * (leaseMs / 3));

      const killedAt = Date.now();
      await victim.kill('SIGKILL');
      // The victim is gone: its last renewal is final.
      const leaseEnd = Math.max(...(await rows(theirs)).map((r) => Number(r.lease_until)));
      const restarted = await until(
        'the jobs running again',
        leaseMs + 3 * sweepMs + 10_000,
        async () => {
          const now = await rows(theirs);
          const back = now.every((r) => r.status === 'running' && r.claimed_by === survivorId);
          return back ? Math.max(...now.map((r) => Number(r.started_at))) : undefined;
        },
      );
      const released = await db.query<{ at: string }>(
        `SELECT max(created_at) AS at FROM job_events
         WHERE job_id = ANY($1) AND kind = 'queued' AND created_at >= $2`,
        [theirs, killedAt],
      );
      const releasedAt = Number(released.rows[0]?.at);
      samples.push({
        total: restarted - killedAt,
        leaseLeft: leaseEnd - killedAt,
        sweepWait: releasedAt - leaseEnd,
        claim: restarted - releasedAt,
        jobs: theirs.length,
      });
      // The survivor's threads free for the next victim's jobs.
      await cancel(survivor, ids);
    }
  } finally {
    await db.end();
  }
  const of = (pick: (s: Sample) => number) => round(median(samples.map(pick)), 0);
  return {
    failover_ms: of((s) => s.total),
    failover_ms_max: round(Math.max(...samples.map((s) => s.total)), 0),
    failover_lease_left_ms: of((s) => s.leaseLeft),
    failover_sweep_wait_ms: of((s) => s.sweepWait),
    failover_claim_ms: of((s) => s.claim),
    failover_kills: samples.length,
    failover_jobs_per_kill: of((s) => s.jobs),
    failover_lease: `LEASE_MS=${leaseMs} LEASE_SWEEP_MS=${sweepMs}`,
  };
}
