/**
 * `npm run bench` (and `npm run bench -- --quick`, about a minute, which CI runs so the
 * bench never rots; nothing asserts on its numbers). Every figure that matters is a ratio
 * of two things measured in the same run, interleaved, since this machine is shared and
 * noisy. Prints a table and writes bench/results.json.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../test/helpers/paths.ts';
import { clusterFigures } from './parts/cluster.ts';
import { coldStart } from './parts/cold-start.ts';
import { edgeAddedLatency } from './parts/edge.ts';
import { etaAccuracy } from './parts/eta.ts';
import { inferenceVsEndToEnd } from './parts/inference.ts';
import { noopVsBullmq } from './parts/queue.ts';
import { wsCapacity } from './parts/ws.ts';

const quick = process.argv.includes('--quick');
const option = (name: string): string | undefined => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const allParts = ['inference', 'queue', 'edge', 'cold', 'ws', 'cluster', 'eta'];
/** `--parts queue,cluster` runs only those (of allParts); `--duration 30` lengthens the jobs. */
const parts = new Set(option('parts')?.split(',') ?? allParts);
const duration = Number(option('duration') ?? 8);
const threads = availableParallelism();
const started = Date.now();

const step = async <T>(name: string, run: () => Promise<T> | T): Promise<Partial<T>> => {
  const key = name.split(':')[0] ?? name;
  if (!parts.has(key)) return {};
  const t0 = performance.now();
  process.stderr.write(`bench: ${name}…`);
  const result = await run();
  process.stderr.write(` ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return result;
};

const inference = await step('inference: default model, raw pool vs end to end', () =>
  inferenceVsEndToEnd({ duration, threads, rounds: quick ? 2 : 5, perRound: quick ? 12 : 80 }),
);
const queue = await step('queue: no-op jobs, Overture vs a Hono + BullMQ peer and raw BullMQ', () =>
  noopVsBullmq({
    threads,
    clients: 16,
    bullmqConcurrency: 8,
    rounds: quick ? 2 : 5,
    perRound: quick ? 200 : 2000,
    warmup: quick ? 400 : 1000,
  }),
);
const edge = await step('edge: added latency', () =>
  edgeAddedLatency({ requests: quick ? 60 : 400, downloads: quick ? 10 : 60 }),
);
const cold = await step('cold: start to healthy', () => coldStart({ times: quick ? 1 : 3 }));
const ws = await step('ws: WebSocket capacity', () =>
  wsCapacity({ sockets: quick ? [200, 1000] : [1000, 10000] }),
);
const cluster = await step(
  'cluster: PostgreSQL beside SQLite, two origins, a SIGKILL, drivers',
  () =>
    clusterFigures({
      threads,
      clients: 16,
      rounds: quick ? 2 : 5,
      perRound: quick ? 150 : 1000,
      driverPerRound: quick ? 800 : 4000,
      latencyJobs: quick ? 120 : 600,
      latencyRate: 40,
      kills: quick ? 1 : 3,
    }),
);
const eta = await step('eta: estimated starts on a steady queue', () =>
  etaAccuracy({ threads, users: 4, depth: quick ? 10 : 16, jobs: quick ? 16 : 100 }),
);

const results = {
  date: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  duration,
  machine: {
    cores: threads,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  },
  ...inference,
  ...queue,
  ...edge,
  ...cold,
  ...ws,
  ...cluster,
  ...eta,
  seconds: Math.round((Date.now() - started) / 1000),
};
// A run of some parts only does not replace the last full results.
const out = allParts.every((p) => parts.has(p))
  ? 'bench/results.json'
  : 'bench/results.partial.json';
writeFileSync(join(repoRoot, out), `${JSON.stringify(results, null, 2)}\n`);

const rows: [string, unknown, string][] = [
  [
    'raw_jobs_per_s',
    results.raw_jobs_per_s,
    `default model, ${threads} Piscina threads, no HTTP/DB/sockets`,
  ],
  ['e2e_jobs_per_s', results.e2e_jobs_per_s, 'HTTP submit → WebSocket succeeded, same threads'],
  ['e2e_ratio', results.e2e_ratio, 'e2e / raw (target ≥ 0.95)'],
  [
    'overhead_ms_p50',
    results.overhead_ms_p50,
    'submit → terminal event, minus worker inference time',
  ],
  ['overhead_ms_p99', results.overhead_ms_p99, ''],
  ['inference_ms_p50', results.inference_ms_p50, 'worker-measured inference time of one job'],
  [
    'origin_main_cpu_ms_per_job',
    results.origin_main_cpu_ms_per_job,
    'origin main thread CPU per e2e job',
  ],
  [
    'bench_client_cpu_ms_per_job',
    results.bench_client_cpu_ms_per_job,
    "the bench's own HTTP+WS client CPU per job",
  ],
  ['noop_jobs_per_s', results.noop_jobs_per_s, 'no-op model, 16 closed-loop clients'],
  ['bullmq_noop_jobs_per_s', results.bullmq_noop_jobs_per_s, 'BullMQ + local Redis, same clients'],
  ['queue_ratio', results.queue_ratio, 'Overture / BullMQ (target ≥ 2)'],
  [
    'bullmq_durable_noop_jobs_per_s',
    results.bullmq_durable_noop_jobs_per_s,
    'BullMQ, Redis fsyncing every write',
  ],
  ['queue_ratio_vs_durable', results.queue_ratio_vs_durable, 'Overture / durable BullMQ'],
  [
    'peer_noop_jobs_per_s',
    results.peer_noop_jobs_per_s,
    'Hono + jose + BullMQ (fsync Redis) + ws process, same clients',
  ],
  ['peer_ratio', results.peer_ratio, 'Overture / that same-path peer'],
  [
    'noop_latency_ms_p99',
    results.noop_latency_ms_p99,
    'Overture no-op job, submit → terminal message (info logs)',
  ],
  ['peer_latency_ms_p99', results.peer_latency_ms_p99, 'the same through the peer'],
  [
    'origin_main_cpu_ms_per_noop_job',
    results.origin_main_cpu_ms_per_noop_job,
    'origin main thread CPU per no-op job',
  ],
  [
    'peer_main_cpu_ms_per_job',
    results.peer_main_cpu_ms_per_job,
    'peer main thread CPU per job (HTTP, JWT, BullMQ, WS)',
  ],
  [
    'edge_added_ms_p50',
    results.edge_added_ms_p50,
    `edge ${results.edge_ms_p50} ms vs direct ${results.direct_ms_p50} ms, one origin`,
  ],
  [
    'edge_worker_added_ms_p50',
    results.edge_worker_added_ms_p50,
    results.edge_worker_skipped
      ? `the Worker's own, past wrangler's proxy: not measured (${results.edge_worker_skipped})`
      : `the same past wrangler's proxy (${results.edge_worker_ms_p50} ms): the Worker's own`,
  ],
  [
    'edge_proxy_hop_ms_p50',
    // Left out with the Worker's own (its row says why).
    results.edge_worker_skipped ? undefined : results.edge_proxy_hop_ms_p50,
    `wrangler's proxy; of the Worker's own: rate limit ${results.edge_rate_limit_ms_p50}, code ${results.edge_worker_code_ms_p50}, dev runtime ${results.edge_dev_runtime_ms_p50}`,
  ],
  [
    'edge_two_origins_added_ms_p50',
    results.edge_two_origins_added_ms_p50,
    `edge ${results.edge_two_origins_ms_p50} ms over two origins on PostgreSQL, beside one directly`,
  ],
  [
    'download_r2_edge_mb_per_s',
    results.download_r2_edge_mb_per_s,
    `a ${results.download_bytes} B output from R2 at the edge, ${results.download_r2_edge_ms_p50} ms p50`,
  ],
  [
    'download_origin_mb_per_s',
    results.download_origin_mb_per_s,
    `the same from one origin's disk, directly (${results.download_origin_ms_p50} ms); through the edge ${results.download_origin_via_edge_mb_per_s} MB/s`,
  ],
  [
    'download_r2_vs_origin_ratio',
    results.download_r2_vs_origin_ratio,
    "speed from R2 at the edge ÷ from an origin's disk through the edge, same run",
  ],
  ['cold_start_ms', results.cold_start_ms, 'spawn → /v1/health healthy'],
  ['ws_sockets', results.ws_sockets, 'subscribed sockets held by one origin'],
  [
    'ws_rss_mb',
    results.ws_rss_mb,
    `origin RSS at that many (${JSON.stringify(results.ws_rss_by_sockets)})`,
  ],
  ['ws_fanout_p50_ms', results.ws_fanout_p50_ms, 'cancel sent → each socket receives it'],
  ['ws_fanout_p99_ms', results.ws_fanout_p99_ms, ''],
  ['noop_sqlite_jobs_per_s', results.noop_sqlite_jobs_per_s, 'no-op model, one origin on SQLite'],
  ['noop_pg_jobs_per_s', results.noop_pg_jobs_per_s, 'the same on PostgreSQL, same clients'],
  ['pg_vs_sqlite_noop_ratio', results.pg_vs_sqlite_noop_ratio, 'PostgreSQL / SQLite'],
  [
    'noop_pg_origin_cpu_ms_per_job',
    results.noop_pg_origin_cpu_ms_per_job,
    `origin main thread CPU per job (SQLite ${results.noop_sqlite_origin_cpu_ms_per_job}), PostgreSQL server ${results.noop_pg_server_cpu_ms_per_job}`,
  ],
  [
    'cluster_start_latency_ms_p50',
    results.cluster_start_latency_ms_p50,
    `queued → started, 2 origins, ${results.cluster_load_jobs_per_s} jobs/s`,
  ],
  [
    'cluster_start_latency_ms_p99',
    results.cluster_start_latency_ms_p99,
    `${results.cluster_started_elsewhere_share} started by the other origin`,
  ],
  [
    'failover_ms',
    results.failover_ms,
    `SIGKILL → its jobs running on the survivor (${results.failover_lease})`,
  ],
  [
    'failover_lease_left_ms',
    results.failover_lease_left_ms,
    `then sweep wait ${results.failover_sweep_wait_ms} + claim ${results.failover_claim_ms}; max ${results.failover_ms_max} of ${results.failover_kills} kills`,
  ],
  [
    'pg_driver_pg_tx_per_s',
    results.pg_driver_pg_tx_per_s,
    `pg as the store uses it: ${results.pg_driver_pg_client_us_per_tx} µs client, ${results.pg_driver_pg_server_us_per_tx} µs server CPU per tx`,
  ],
  [
    'pg_driver_pg_prepared_tx_per_s',
    results.pg_driver_pg_prepared_tx_per_s,
    `pg, named statements: ${results.pg_driver_pg_prepared_client_us_per_tx} µs client, ${results.pg_driver_pg_prepared_server_us_per_tx} µs server`,
  ],
  [
    'pg_driver_postgresjs_tx_per_s',
    results.pg_driver_postgresjs_tx_per_s,
    `postgres.js: ${results.pg_driver_postgresjs_client_us_per_tx} µs client, ${results.pg_driver_postgresjs_server_us_per_tx} µs server`,
  ],
  [
    'pg_driver_tx_ratio',
    results.pg_driver_tx_ratio,
    `postgres.js / pg tx/s; client CPU ratio ${results.pg_driver_client_cpu_ratio}`,
  ],
  [
    'eta_mae_s',
    results.eta_mae_s,
    `|etaSeconds − actual wait|, ${results.eta_samples} jobs behind ~${results.eta_queue_position_mean} queued, ${results.eta_rejected} refused`,
  ],
  [
    'eta_mean_wait_s',
    results.eta_mean_wait_s,
    `createdAt → startedAt of those jobs (${results.eta_run_ms} ms each)`,
  ],
  ['eta_bias_s', results.eta_bias_s, 'mean of etaSeconds − actual wait'],
  [
    'eta_naive_mae_s',
    results.eta_naive_mae_s,
    'the same for queuePosition × mean run time / threads, same answers',
  ],
];
console.log(
  `\nOverture bench (${results.mode}), ${results.date}, ${threads} cores, ${results.machine.memoryGiB} GiB\n`,
);
// Rows of the parts not run are left out.
for (const [key, value, note] of rows.filter(([, value]) => value !== undefined))
  console.log(`${key.padEnd(30)} ${String(value).padStart(10)}  ${note}`);
console.log(`\nwrote ${out} (${results.seconds} s)`);
