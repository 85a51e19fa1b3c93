import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from '../../shared/schemas/jobs.ts';
import { removeDataDir, startOriginProcess } from '../../test/helpers/origin-process.ts';
import { type JobClient, type JobTiming, openClients } from '../lib/job-clients.ts';
import { benchOriginEnv } from '../lib/origins.ts';
import { round } from '../lib/stats.ts';

export interface EtaOptions {
  threads: number;
  users: number;
  /** Jobs submitted at once before the steady load, so that it runs behind a queue this deep. */
  depth: number;
  /** Jobs of the steady load: the samples. */
  jobs: number;
}

/**
 * About 500 ms a job: behind a queue of 10–20 the waits are seconds, well above the half
 * second that `etaSeconds`, whole seconds rounded up, costs on its own.
 */
const input = { steps: 5, stepMs: 100 };

const ms = (timestamp: string | null): number => Date.parse(timestamp ?? '');
const runMs = (job: Job): number => ms(job.finishedAt) - ms(job.startedAt);
const mean = (values: readonly number[]): number =>
  values.reduce((sum, v) => sum + v, 0) / values.length;

type Run = Promise<JobTiming & { client: JobClient }>;

/** The jobs of `runs` as they ended, each read back by its client, beside their 202 answer. */
async function ended(runs: readonly Run[]) {
  const settled = await Promise.allSettled(runs);
  const done = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const jobs = await Promise.all(
    done.map(async (run) => ({ accepted: run.accepted, job: await run.client.read(run.jobId) })),
  );
  return { jobs, rejected: settled.length - done.length };
}

/**
 * How well a queued job's `etaSeconds` (in its 202 answer) foretells its start, on one
 * origin under a steady load: `users` users submit `steps` jobs of one known duration, in
 * turn, open loop at the rate the threads finish them (measured on warm-up jobs, which also
 * teach the origin the model's run time), behind a queue of `depth` jobs submitted first
 * and not counted. The actual wait is the job's own `startedAt − createdAt`. Beside it, a
 * naive estimate from the same answers, `queuePosition × mean run time / threads` (the run
 * time measured on this run's jobs), rounded up to whole seconds as `etaSeconds` is, so
 * the two errors differ by the estimate alone.
 */
export async function etaAccuracy(o: EtaOptions) {
  const origin = await startOriginProcess({ env: benchOriginEnv(o.threads) });
  const open: JobClient[] = [];
  try {
    const clients = await openClients(origin.url, o.users);
    open.push(...clients);
    const submit = (i: number): Run => {
      const client = clients[i % clients.length];
      if (!client) throw new Error('eta: no client');
      return client.run('steps', input).then((timing) => ({ client, ...timing }));
    };

    const warm = await ended(Array.from({ length: o.threads }, (_, i) => submit(i)));
    const interval = mean(warm.jobs.map(({ job }) => runMs(job))) / o.threads;

    // Handled at once: a rejection left for the later await would end the process before
    // the `finally` stops the origin.
    const prefill = Array.from({ length: o.depth }, (_, i) => submit(i));
    for (const run of prefill) run.catch(() => {});
    const runs: Run[] = [];
    const t0 = performance.now();
    for (let i = 0; i < o.jobs; i++) {
      const wait = t0 + i * interval - performance.now();
      if (wait > 0) await sleep(wait);
      const run = submit(i);
      run.catch(() => {});
      runs.push(run);
    }
    await Promise.allSettled(prefill);
    const { jobs, rejected } = await ended(runs);

    const meanRunMs = mean(jobs.map(({ job }) => runMs(job)));
    const samples = jobs.flatMap(({ accepted, job }) => {
      const { etaSeconds: eta, queuePosition: position } = accepted;
      if (job.startedAt === null || eta === null || position === null) return [];
      const naive = Math.ceil((position * meanRunMs) / o.threads / 1000);
      const wait = (ms(job.startedAt) - ms(job.createdAt)) / 1000;
      return [{ eta, naive, wait, position }];
    });
    return {
      eta_samples: samples.length,
      eta_mae_s: round(mean(samples.map((s) => Math.abs(s.eta - s.wait)))),
      eta_bias_s: round(mean(samples.map((s) => s.eta - s.wait))),
      eta_mean_wait_s: round(mean(samples.map((s) => s.wait))),
      eta_naive_mae_s: round(mean(samples.map((s) => Math.abs(s.naive - s.wait)))),
      eta_queue_position_mean: round(mean(samples.map((s) => s.position)), 1),
      eta_run_ms: round(meanRunMs, 1),
      // Refused submissions (429, 503): none expected, the load stays below the caps.
      eta_rejected: rejected,
    };
  } finally {
    for (const client of open) client.close();
    await origin.kill();
    removeDataDir(origin.dataDir);
  }
}
