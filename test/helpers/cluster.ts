import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type PostgresServer, startPostgres } from '../../scripts/lib/postgres-server.ts';
import { apiClient } from './api.ts';
import { type EdgeProcess, freePort, startEdgeProcess, stopEdgeProcess } from './edge-process.ts';
import {
  makeDataDir,
  type OriginProcess,
  removeDataDir,
  type StartOptions,
  startOriginProcess,
} from './origin-process.ts';
import { everyModelLoaded } from './readiness.ts';

export interface Cluster {
  server: PostgresServer;
  databaseUrl: string;
  /** The origins, in the order started (`origins[i]` is `ORIGIN_ID` `origin-<i>`). */
  origins: OriginProcess[];
  /** The environment every origin of this cluster runs with. */
  env: Record<string, string>;
  /** Outputs live here, shared by the origins as a network folder would be. */
  dataDir: string;
  api(i: number): ReturnType<typeof apiClient>;
  /** The edge in front of every origin, when the cluster was started with one. */
  edge: EdgeProcess | undefined;
  /** A client of the edge (the way in for clients), when there is one. */
  edgeApi: ReturnType<typeof apiClient>;
  /** Starts one more origin on the same database (named `ORIGIN_ID`). */
  add(id: string, options?: StartOptions): Promise<OriginProcess>;
  stop(): Promise<void>;
}

/**
 * Short leases, so that a killed origin's jobs come back within a test's patience (and an
 * abort grace shorter than the lease, as the origin requires).
 */
export const testLease = { LEASE_MS: '1500', LEASE_SWEEP_MS: '200', ABORT_GRACE_MS: '1000' };

/**
 * A throwaway PostgreSQL server, one database, and `origins` real origin processes on it,
 * started together (they race to apply the migrations, as a deploy would). `stop()` stops
 * every process and the server.
 *
 * @example
 * const cluster = await startCluster(2);
 * onTestFinished(() => cluster.stop());
 */
export async function startCluster(
  origins: number,
  options: { env?: Record<string, string>; edge?: { vars?: Record<string, string> } } = {},
): Promise<Cluster> {
  const server = await startPostgres();
  const dataDir = makeDataDir();
  const started: OriginProcess[] = [];
  let edge: EdgeProcess | undefined;
  try {
    const databaseUrl = await server.createDatabase('overture');
    // Behind an edge, origins check its signatures and keep outputs in its bucket.
    const secret = `cluster-edge-${randomBytes(24).toString('hex')}`;
    const edgePort = options.edge ? await freePort() : 0;
    const behindEdge: Record<string, string> = options.edge
      ? {
          EDGE_SIGNATURE_CHECK: 'on',
          EDGE_SIGNING_SECRET: secret,
          OUTPUT_STORE: 'edge',
          EDGE_URL: `http://127.0.0.1:${edgePort}`,
          PUBLIC_URL: `http://127.0.0.1:${edgePort}`,
        }
      : {};
    const env = {
      DATABASE_URL: databaseUrl,
      JWT_SECRET: `cluster-jwt-secret-${randomUUID()}`,
      ...testLease,
      ...behindEdge,
      ...options.env,
    };
    const add = async (id: string, more: StartOptions = {}) => {
      const origin = await startOriginProcess({
        // Behind an edge, readiness is asked through the edge, as a client would.
        waitReady: !options.edge,
        ...more,
        dataDir,
        env: { ...env, ORIGIN_ID: id, ...more.env },
      });
      started.push(origin);
      return origin;
    };
    await Promise.all(Array.from({ length: origins }, (_, i) => add(`origin-${i}`)));
    started.sort((a, b) => idOf(a).localeCompare(idOf(b)));
    if (options.edge) {
      edge = await startEdgeProcess(
        {
          RATE_LIMIT_AUTH: '100/60',
          RATE_LIMIT_JOBS: '1000/60',
          ...options.edge.vars,
          // wrangler.toml's one-origin default, emptied: the edge takes one or the other.
          ORIGIN_URL: '',
          ORIGIN_URLS: started.map((o) => o.url).join(','),
          EDGE_SIGNING_SECRET: secret,
          JWT_SECRET: env.JWT_SECRET,
        },
        { port: edgePort },
      );
      const deadline = Date.now() + 60_000;
      const through = apiClient(edge.url);
      while (!everyModelLoaded(await through.call('GET', '/v1/health').catch(() => undefined))) {
        if (Date.now() > deadline)
          throw new Error(`cluster not ready through the edge:\n${edge.output()}`);
        await sleep(100);
      }
    }
    return {
      server,
      databaseUrl,
      origins: started,
      env,
      dataDir,
      api: (i) => apiClient(started[i]?.url ?? ''),
      edge,
      edgeApi: apiClient(edge?.url ?? ''),
      add,
      async stop() {
        if (edge) await stopEdgeProcess(edge);
        await Promise.all(started.map((o) => o.kill('SIGKILL')));
        await server.stop();
        removeDataDir(dataDir);
      },
    };
  } catch (error) {
    if (edge) await stopEdgeProcess(edge);
    await Promise.all(started.map((o) => o.kill('SIGKILL')));
    await server.stop();
    removeDataDir(dataDir);
    throw error;
  }
}

/** The `ORIGIN_ID` an origin announced when it started listening. */
export function idOf(origin: OriginProcess): string {
  return /"originId":"([^"]+)"/.exec(origin.output())?.[1] ?? '';
}

/** The ids of the jobs of an origin's log lines with message `msg`. */
function jobsLogged(origin: OriginProcess, msg: string): string[] {
  const ids: string[] = [];
  for (const line of origin.output().split('\n')) {
    if (!line.includes(`"msg":"${msg}"`)) continue;
    const id = /"jobId":"([^"]+)"/.exec(line)?.[1];
    if (id) ids.push(id);
  }
  return ids;
}

/** The ids of the jobs an origin started, from its `job started` log lines. */
export const jobsStartedBy = (origin: OriginProcess): string[] => jobsLogged(origin, 'job started');

/** The ids of the jobs an origin ended, from its `job finished` log lines. */
export const jobsFinishedBy = (origin: OriginProcess): string[] =>
  jobsLogged(origin, 'job finished');
