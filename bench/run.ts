/**
 * `npm run bench` (and `npm run bench -- --quick`, under a minute, which CI runs so the
 * bench never rots; nothing asserts on its numbers). Every figure that matters is a ratio
 * of two things measured in the same run, interleaved, since this machine is shared and
 * noisy. Prints a table and writes bench/results.json.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../test/helpers/paths.ts';
import { coldStart } from './parts/cold-start.ts';
import { edgeAddedLatency } from './parts/edge.ts';
import { inferenceVsEndToEnd } from './parts/inference.ts';
import { noopVsBullmq } from './parts/queue.ts';
import { wsCapacity } from './parts/ws.ts';

const quick = process.argv.includes('--quick');
const option = (name: string): string | undefined => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : undefined;
};
/** `--parts inference,queue,edge,cold,ws` runs only those; `--duration 30` lengthens the jobs. */
const parts = new Set((option('parts') ?? 'inference,queue,edge,cold,ws').split(','));
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
const queue = await step('queue: no-op jobs, Overture vs BullMQ', () =>
  noopVsBullmq({
    threads,
    clients: 16,
    bullmqConcurrency: 8,
    rounds: quick ? 2 : 5,
    perRound: quick ? 200 : 2000,
  }),
);
const edge = await step('edge: added latency', () =>
  edgeAddedLatency({ requests: quick ? 60 : 400 }),
);
const cold = await step('cold: start to healthy', () => coldStart({ times: quick ? 1 : 3 }));
const ws = await step('ws: WebSocket capacity', () =>
  wsCapacity({ sockets: quick ? [200, 1000] : [1000, 10000] }),
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
  seconds: Math.round((Date.now() - started) / 1000),
};
// A run of some parts only does not replace the last full results.
const out = parts.size === 5 ? 'bench/results.json' : 'bench/results.partial.json';
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
    'edge_added_ms_p50',
    results.edge_added_ms_p50,
    `edge ${results.edge_ms_p50} ms vs direct ${results.direct_ms_p50} ms`,
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
];
console.log(
  `\nOverture bench (${results.mode}), ${results.date}, ${threads} cores, ${results.machine.memoryGiB} GiB\n`,
);
for (const [key, value, note] of rows)
  console.log(`${key.padEnd(24)} ${String(value).padStart(10)}  ${note}`);
console.log(`\nwrote ${out} (${results.seconds} s)`);
