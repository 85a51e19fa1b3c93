import { removeDataDir, startOriginProcess } from '../../test/helpers/origin-process.ts';
import { closedLoop, type JobClient, openClients } from '../lib/job-clients.ts';
import { benchOriginEnv } from '../lib/origins.ts';
import { startPeerProcess } from '../lib/peer-process.ts';
import { mainThreadCpuMs } from '../lib/proc.ts';
import { type RawBullmq, rawBullmq } from '../lib/raw-bullmq.ts';
import { redisBinary } from '../lib/redis.ts';
import { interleave, percentile, round } from '../lib/stats.ts';

/** Jobs, elapsed ms, main-thread CPU ms and per-job latencies of one contender's rounds. */
interface Tally {
  jobs: number;
  ms: number;
  cpuMs: number;
  latencies: number[];
}

const tally = (): Tally => ({ jobs: 0, ms: 0, cpuMs: 0, latencies: [] });
const perS = (t: Tally): number => (t.jobs / t.ms) * 1000;

/** A round of `total` jobs of one contender, added to `into`. */
type Round = (total: number, into: Tally) => Promise<void>;

/**
 * Rounds of no-op jobs from `clients` to the server of process `pid` (an origin or the
 * peer): throughput, submit → terminal message of each job, and the main thread's CPU.
 */
const closedLoopRounds =
  (clients: readonly JobClient[], pid: number): Round =>
  async (total, into) => {
    const cpu0 = mainThreadCpuMs(pid);
    const run = await closedLoop(clients, total, 'noop', {});
    into.cpuMs += mainThreadCpuMs(pid) - cpu0;
    into.ms += run.ms;
    into.jobs += run.timings.length;
    for (const t of run.timings) into.latencies.push(t.doneAt - t.submittedAt);
  };

/** Rounds of raw BullMQ: `clients` closed-loop callers of `add` (throughput only). */
const rawBullmqRounds =
  (raw: RawBullmq, clients: number): Round =>
  async (total, into) => {
    let started = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (started < total) {
          started++;
          await raw.add();
        }
      }),
    );
    into.ms += performance.now() - t0;
    into.jobs += total;
  };

/** Runs `stops` in reverse order of their pushing, each even if one before it failed. */
async function stopAll(stops: (() => unknown)[]): Promise<void> {
  for (const stop of stops.reverse()) {
    try {
      await stop();
    } catch (error) {
      console.warn('bench: queue: stopping a contender failed:', error);
    }
  }
}

/**
 * A model that does nothing through Overture's whole job path (HTTP create, SQLite, the
 * scheduler, a worker thread, the WebSocket terminal event; info logs on, LOG_LEVEL's default)
 * against two references, with the same number of clients, each waiting for its job before
 * adding the next (closed loop), in interleaved rounds:
 * - the same path as a team would build it instead (bench/peer/server.ts, its own process:
 *   Hono, a JWT checked with jose, BullMQ on a Redis fsyncing every write, a WebSocket
 *   message per job), driven by the same HTTP + WebSocket clients as Overture;
 * - raw BullMQ on a local Redis doing the same in the bench's process (add, process,
 *   completed event), on a Redis without persistence and on one that fsyncs every write.
 * Besides throughput: each job's submit → terminal message (p99), and the CPU of the main
 * thread of Overture's origin and of the peer per job (where each serves its requests).
 * Each contender first runs `warmup` jobs, not counted: a fresh process is slow until its
 * code is compiled (JIT; the peer ran its first 400 jobs at about half its later speed),
 * which would otherwise be most of a quick run's jobs and its p99.
 */
export async function noopVsBullmq(options: {
  threads: number;
  clients: number;
  bullmqConcurrency: number;
  rounds: number;
  perRound: number;
  warmup: number;
}) {
  const { clients: clientCount, perRound } = options;
  const concurrency = options.bullmqConcurrency;
  const overture = tally();
  const peer = tally();
  const bullmq = tally();
  const durable = tally();
  const bin = redisBinary();
  let ran = { peer: false, bullmq: false, durable: false };
  const stops: (() => unknown)[] = [];
  try {
    const origin = await startOriginProcess({
      env: { ...benchOriginEnv(options.threads), LOG_LEVEL: 'info' },
    });
    stops.push(async () => {
      await origin.kill();
      removeDataDir(origin.dataDir);
    });
    const clients = await openClients(origin.url, clientCount);
    stops.push(() => {
      for (const c of clients) c.close();
    });
    const samePath = bin ? await startPeerProcess(bin, concurrency) : undefined;
    if (samePath) stops.push(samePath.stop);
    const peerClients = samePath
      ? await openClients(samePath.url, clientCount, samePath.signUp)
      : [];
    stops.push(() => {
      for (const c of peerClients) c.close();
    });
    const raw = bin ? await rawBullmq(bin, false, concurrency, clientCount) : undefined;
    if (raw) stops.push(raw.close);
    const rawDurable = bin ? await rawBullmq(bin, true, concurrency, clientCount) : undefined;
    if (rawDurable) stops.push(rawDurable.close);
    ran = { peer: !!samePath, bullmq: !!raw, durable: !!rawDurable };

    const contenders: [Round | undefined, Tally][] = [
      [closedLoopRounds(clients, origin.child.pid ?? 0), overture],
      [samePath && closedLoopRounds(peerClients, samePath.pid), peer],
      [raw && rawBullmqRounds(raw, clientCount), bullmq],
      [rawDurable && rawBullmqRounds(rawDurable, clientCount), durable],
    ];
    for (const [run] of contenders) await run?.(options.warmup, tally());
    await interleave(
      options.rounds,
      Object.fromEntries(
        contenders.map(([run, into], i) => [i, async () => run?.(perRound, into)]),
      ),
    );
  } finally {
    await stopAll(stops);
  }

  const noopPerS = perS(overture);
  const noRedis = 'skipped: no redis-server';
  return {
    noop_jobs_per_s: round(noopPerS, 1),
    noop_latency_ms_p99: round(percentile(overture.latencies, 99), 1),
    origin_main_cpu_ms_per_noop_job: round(overture.cpuMs / overture.jobs, 3),
    // The same path built on Hono + BullMQ (durable Redis) in a process of its own.
    peer_noop_jobs_per_s: ran.peer ? round(perS(peer), 1) : noRedis,
    peer_ratio: ran.peer ? round(noopPerS / perS(peer), 3) : 'skipped',
    peer_latency_ms_p99: ran.peer ? round(percentile(peer.latencies, 99), 1) : 'skipped',
    peer_main_cpu_ms_per_job: ran.peer ? round(peer.cpuMs / peer.jobs, 3) : 'skipped',
    bullmq_noop_jobs_per_s: ran.bullmq ? round(perS(bullmq), 1) : noRedis,
    queue_ratio: ran.bullmq ? round(noopPerS / perS(bullmq), 3) : 'skipped',
    // Raw BullMQ again, its Redis fsyncing every write (appendfsync always), as Overture does.
    bullmq_durable_noop_jobs_per_s: ran.durable ? round(perS(durable), 1) : 'skipped',
    queue_ratio_vs_durable: ran.durable ? round(noopPerS / perS(durable), 3) : 'skipped',
  };
}
