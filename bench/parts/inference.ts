import { join } from 'node:path';
import Database from 'better-sqlite3';
import { loadModels } from '../../origin/inference/models/registry.ts';
import { createInferencePool } from '../../origin/inference/pool.ts';
import { intraOpThreads } from '../../origin/inference/pool-plan.ts';
import { removeDataDir, startOriginProcess } from '../../test/helpers/origin-process.ts';
import { repoRoot } from '../../test/helpers/paths.ts';
import { closedLoop, openClients } from '../lib/job-clients.ts';
import { benchOriginEnv } from '../lib/origins.ts';
import { mainThreadCpuMs } from '../lib/proc.ts';
import { interleave, percentile, round } from '../lib/stats.ts';

const model = 'tone-diffusion';

/**
 * The physical limit against the product: the default model run directly by a Piscina pool
 * of `threads` threads, and the same model through a real origin (HTTP submit, SQLite,
 * scheduler, WebSocket terminal event) with the same threads, in interleaved rounds.
 * Both keep two jobs in flight per thread so neither leaves a thread idle by design.
 */
export async function inferenceVsEndToEnd(options: {
  /** Seconds of audio per job: 8 is the model's default; longer jobs dilute the overhead. */
  duration: number;
  threads: number;
  rounds: number;
  perRound: number;
}) {
  const { threads, rounds, perRound } = options;
  const input = {
    prompt: 'benchmark: slow rain on a tin roof',
    seed: 7,
    duration: options.duration,
  };
  const registry = loadModels(join(repoRoot, 'models'));
  const loaded = registry.get(model);
  const checked = registry.check(model, input);
  if (!loaded || !checked.ok) throw new Error('the default model is missing');
  const pool = createInferencePool({
    models: [loaded],
    threads,
    intraOpThreads: intraOpThreads(threads),
    executionProvider: 'cpu',
  });
  await pool.ready;
  const origin = await startOriginProcess({
    env: {
      ...benchOriginEnv(threads),
      MODEL_DIR: join(repoRoot, 'models'),
      FREE_GRANT_CREDITS: '1000000000',
    },
  });
  const clients = await openClients(origin.url, threads * 2);

  const raw = { jobs: 0, ms: 0 };
  const e2e = { jobs: 0, ms: 0, originCpuMs: 0, clientCpuMs: 0 };
  const pid = origin.child.pid ?? 0;
  const overheadTimings: { jobId: string; latency: number }[] = [];

  await interleave(rounds, {
    raw: async () => {
      const t0 = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: threads * 2 }, async () => {
          while (next < perRound) {
            next++;
            // Progress is listened to, as the scheduler does, so both sides pay for it.
            await pool.run(
              {
                modelId: model,
                input: checked.input,
                abort: new Int32Array(new SharedArrayBuffer(4)),
              },
              new AbortController().signal,
              () => {},
            );
          }
        }),
      );
      raw.ms += performance.now() - t0;
      raw.jobs += perRound;
    },
    e2e: async () => {
      const cpu0 = mainThreadCpuMs(pid);
      const client0 = process.cpuUsage();
      const run = await closedLoop(clients, perRound, model, input);
      const client = process.cpuUsage(client0);
      e2e.originCpuMs += mainThreadCpuMs(pid) - cpu0;
      e2e.clientCpuMs += (client.user + client.system) / 1000;
      e2e.ms += run.ms;
      e2e.jobs += run.timings.length;
    },
    // One job in flight per thread: submit-to-event latency without queueing.
    overhead: async () => {
      const run = await closedLoop(
        clients.slice(0, threads),
        Math.ceil(perRound / 2),
        model,
        input,
      );
      for (const t of run.timings)
        overheadTimings.push({ jobId: t.jobId, latency: t.doneAt - t.submittedAt });
    },
  });

  for (const c of clients) c.close();
  await origin.kill();
  await pool.close();
  // The worker's own inference time of each job, as the origin recorded it.
  const db = new Database(join(origin.dataDir, 'overture.sqlite'), { readonly: true });
  const runMs = new Map(
    (
      db.prepare('select id, run_ms as runMs from jobs').all() as { id: string; runMs: number }[]
    ).map((r) => [r.id, r.runMs]),
  );
  db.close();
  removeDataDir(origin.dataDir);
  const overheads = overheadTimings.map((t) => t.latency - (runMs.get(t.jobId) ?? 0));
  const rawPerS = (raw.jobs / raw.ms) * 1000;
  const e2ePerS = (e2e.jobs / e2e.ms) * 1000;
  return {
    raw_jobs_per_s: round(rawPerS, 1),
    e2e_jobs_per_s: round(e2ePerS, 1),
    e2e_ratio: round(e2ePerS / rawPerS, 3),
    overhead_ms_p50: round(percentile(overheads, 50)),
    overhead_ms_p99: round(percentile(overheads, 99)),
    inference_ms_p50: round(percentile([...runMs.values()], 50)),
    // Where a job's serving CPU goes: on 2 cores with 2 inference threads, it is taken from inference.
    origin_main_cpu_ms_per_job: round(e2e.originCpuMs / e2e.jobs),
    bench_client_cpu_ms_per_job: round(e2e.clientCpuMs / e2e.jobs),
  };
}
