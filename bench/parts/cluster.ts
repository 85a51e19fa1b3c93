import { setTimeout as sleep } from 'node:timers/promises';
import { envSchema } from '../../origin/env.ts';
import { type PostgresServer, startPostgres } from '../../scripts/lib/postgres-server.ts';
import { type Cluster, jobsStartedBy, startCluster } from '../../test/helpers/cluster.ts';
import {
  type OriginProcess,
  removeDataDir,
  startOriginProcess,
} from '../../test/helpers/origin-process.ts';
import { closedLoop, type JobClient, openClients } from '../lib/job-clients.ts';
import { benchOriginEnv, postgresEnv } from '../lib/origins.ts';
import { postgresMissing, postmasterPid, query } from '../lib/postgres.ts';
import { mainThreadCpuMs, processTreeCpuMs } from '../lib/proc.ts';
import { interleave, percentile, round } from '../lib/stats.ts';
import { failover } from './failover.ts';
import { pgDrivers } from './pg-drivers.ts';

export interface ClusterOptions {
  threads: number;
  /** Closed-loop clients of the no-op comparison, and concurrent transactions of the drivers'. */
  clients: number;
  rounds: number;
  /** No-op jobs per round and origin. */
  perRound: number;
  /** Transactions per round and driver. */
  driverPerRound: number;
  /** Jobs and their rate (per second, over both origins) of the start-latency load. */
  latencyJobs: number;
  latencyRate: number;
  kills: number;
}

/**
 * The no-op model through the whole job path on one origin on PostgreSQL and one on SQLite,
 * the same clients, interleaved rounds: throughput, each origin's main-thread CPU per job,
 * and the PostgreSQL server's (it shares the machine's cores with the origin).
 */
async function noopPgVsSqlite(server: PostgresServer, o: ClusterOptions) {
  const env = benchOriginEnv(o.threads);
  const pgEnv = postgresEnv(await server.createDatabase('noop'));
  const started: OriginProcess[] = [];
  const start = async (more: Record<string, string>) => {
    const origin = await startOriginProcess({ env: { ...env, ...more } });
    started.push(origin);
    return origin;
  };
  const serverPid = await postmasterPid(server.url());
  const tally = {
    sqlite: { jobs: 0, ms: 0, originMs: 0, serverMs: 0 },
    pg: { jobs: 0, ms: 0, originMs: 0, serverMs: 0 },
  };
  const open: JobClient[] = [];
  try {
    const [sqlite, postgres] = await Promise.all([start({}), start(pgEnv)]);
    const clientsOf = async (origin: OriginProcess) => {
      const clients = await openClients(origin.url, o.clients);
      open.push(...clients);
      return clients;
    };
    const sqliteClients = await clientsOf(sqlite);
    const pgClients = await clientsOf(postgres);
    const measure =
      (origin: OriginProcess, clients: JobClient[], into: typeof tally.pg) => async () => {
        const pid = origin.child.pid ?? 0;
        const cpu0 = mainThreadCpuMs(pid);
        const server0 = processTreeCpuMs(serverPid);
        const run = await closedLoop(clients, o.perRound, 'noop', {});
        into.originMs += mainThreadCpuMs(pid) - cpu0;
        into.serverMs += processTreeCpuMs(serverPid) - server0;
        into.ms += run.ms;
        into.jobs += run.timings.length;
      };
    await interleave(o.rounds, {
      sqlite: measure(sqlite, sqliteClients, tally.sqlite),
      pg: measure(postgres, pgClients, tally.pg),
    });
  } finally {
    for (const client of open) client.close();
    for (const origin of started) {
      await origin.kill();
      removeDataDir(origin.dataDir);
    }
  }
  const perS = (t: typeof tally.pg) => (t.jobs / t.ms) * 1000;
  return {
    noop_sqlite_jobs_per_s: round(perS(tally.sqlite), 1),
    noop_pg_jobs_per_s: round(perS(tally.pg), 1),
    pg_vs_sqlite_noop_ratio: round(perS(tally.pg) / perS(tally.sqlite), 3),
    noop_sqlite_origin_cpu_ms_per_job: round(tally.sqlite.originMs / tally.sqlite.jobs),
    noop_pg_origin_cpu_ms_per_job: round(tally.pg.originMs / tally.pg.jobs),
    noop_pg_server_cpu_ms_per_job: round(tally.pg.serverMs / tally.pg.jobs),
  };
}

/**
 * Queued → started with two origins on one database under a steady load well below what
 * they can do: no-op jobs submitted at a fixed rate, alternately to each origin, each
 * followed to its end on a WebSocket. Both times are the job's own (`createdAt` is taken
 * before the create's transaction, `startedAt` before the claim's), on one machine's clock.
 */
async function startLatency(cluster: Cluster, o: ClusterOptions) {
  const origins = cluster.origins.slice(0, 2);
  const clients = await Promise.all(origins.map((origin) => openClients(origin.url, 4)));
  const runs: Promise<{ jobId: string; acceptedBy: number }>[] = [];
  const interval = 1000 / o.latencyRate;
  const t0 = performance.now();
  try {
    for (let i = 0; i < o.latencyJobs; i++) {
      const wait = t0 + i * interval - performance.now();
      if (wait > 0) await sleep(wait);
      const side = i % origins.length;
      const pool = clients[side] ?? [];
      const client = pool[Math.floor(i / origins.length) % pool.length];
      if (!client) throw new Error('start latency: no client');
      // Handled at once: a rejection left for the later await would end the process before
      // the `finally` clauses stop the servers.
      const run = client.run('noop', {}).then((t) => ({ jobId: t.jobId, acceptedBy: side }));
      run.catch(() => {});
      runs.push(run);
    }
    const offeredMs = performance.now() - t0;
    const done = await Promise.all(runs);
    const rows = await query<{ id: string; created_at: string; started_at: string }>(
      cluster.databaseUrl,
      'SELECT id, created_at, started_at FROM jobs WHERE id = ANY($1)',
      [done.map((d) => d.jobId)],
    );
    const latencies = rows.map((r) => Number(r.started_at) - Number(r.created_at));
    const startedBy = origins.map((origin) => new Set(jobsStartedBy(origin)));
    const elsewhere = done.filter((d) => !startedBy[d.acceptedBy]?.has(d.jobId)).length;
    return {
      cluster_start_latency_ms_p50: round(percentile(latencies, 50), 1),
      cluster_start_latency_ms_p99: round(percentile(latencies, 99), 1),
      cluster_load_jobs_per_s: round((done.length / offeredMs) * 1000, 1),
      // Started by the origin that did not accept them: the queue is the cluster's.
      cluster_started_elsewhere_share: round(elsewhere / done.length, 3),
    };
  } finally {
    for (const client of clients.flat()) client.close();
  }
}

const keys = [
  'noop_sqlite_jobs_per_s',
  'noop_pg_jobs_per_s',
  'pg_vs_sqlite_noop_ratio',
  'noop_sqlite_origin_cpu_ms_per_job',
  'noop_pg_origin_cpu_ms_per_job',
  'noop_pg_server_cpu_ms_per_job',
  'cluster_start_latency_ms_p50',
  'cluster_start_latency_ms_p99',
  'cluster_load_jobs_per_s',
  'cluster_started_elsewhere_share',
  'failover_ms',
  'failover_ms_max',
  'failover_lease_left_ms',
  'failover_sweep_wait_ms',
  'failover_claim_ms',
  'failover_kills',
  'failover_jobs_per_kill',
  'failover_lease',
  'pg_driver_pg_tx_per_s',
  'pg_driver_pg_client_us_per_tx',
  'pg_driver_pg_server_us_per_tx',
  'pg_driver_pg_prepared_tx_per_s',
  'pg_driver_pg_prepared_client_us_per_tx',
  'pg_driver_pg_prepared_server_us_per_tx',
  'pg_driver_postgresjs_tx_per_s',
  'pg_driver_postgresjs_client_us_per_tx',
  'pg_driver_postgresjs_server_us_per_tx',
  'pg_driver_tx_ratio',
  'pg_driver_client_cpu_ratio',
] as const;
type ClusterFigures = Record<(typeof keys)[number], number | string>;

/**
 * The cluster mode's figures, each on a PostgreSQL 15 server of its own that is stopped
 * after (with every origin): the drivers and the no-op path beside SQLite on one server,
 * then two origins (`startCluster`) with the default leases for start latency and failover.
 * Without PostgreSQL every figure says so.
 */
export async function clusterFigures(o: ClusterOptions): Promise<ClusterFigures> {
  const missing = postgresMissing();
  if (missing) {
    console.warn(`\nbench: cluster: ${missing}: every cluster figure is reported as skipped`);
    return Object.fromEntries(keys.map((k) => [k, `skipped: ${missing}`])) as ClusterFigures;
  }
  const server = await startPostgres();
  let single: Awaited<ReturnType<typeof noopPgVsSqlite>>;
  let drivers: Awaited<ReturnType<typeof pgDrivers>>;
  try {
    // This process's CPU is measured: before any origin or socket of the no-op part exists.
    drivers = await pgDrivers(await server.createDatabase('drivers'), {
      clients: o.clients,
      rounds: o.rounds,
      perRound: o.driverPerRound,
    });
    single = await noopPgVsSqlite(server, o);
  } finally {
    await server.stop();
  }
  // The defaults, as deployed: the failover time is theirs.
  const leaseMs = envSchema.shape.LEASE_MS.parse(undefined);
  const sweepMs = envSchema.shape.LEASE_SWEEP_MS.parse(undefined);
  const cluster = await startCluster(2, {
    env: {
      ...benchOriginEnv(o.threads),
      // `job started` lines tell which origin ran a job.
      LOG_LEVEL: 'info',
      LEASE_MS: String(leaseMs),
      LEASE_SWEEP_MS: String(sweepMs),
    },
  });
  try {
    const latency = await startLatency(cluster, o);
    const lost = await failover(cluster, { kills: o.kills, threads: o.threads, leaseMs, sweepMs });
    return { ...single, ...latency, ...lost, ...drivers };
  } finally {
    await cluster.stop();
  }
}
