import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Job } from '../../shared/schemas/jobs.ts';
import { apiClient } from '../../test/helpers/api.ts';
import { type Cluster, startCluster } from '../../test/helpers/cluster.ts';
import {
  type EdgeProcess,
  startEdgeProcess,
  stopEdgeProcess,
} from '../../test/helpers/edge-process.ts';
import { signedLikeTheEdge } from '../../test/helpers/edge-signing.ts';
import {
  type OriginProcess,
  removeDataDir,
  startOriginProcess,
} from '../../test/helpers/origin-process.ts';
import { repoRoot } from '../../test/helpers/paths.ts';
import { postgresMissing } from '../lib/postgres.ts';
import { percentile, round } from '../lib/stats.ts';
import { workerEntryOf } from '../lib/worker-entry.ts';

/** Budgets no bench ever reaches. */
const unlimited = {
  RATE_LIMIT_DEFAULT: '100000000/60',
  RATE_LIMIT_AUTH: '100000000/60',
  RATE_LIMIT_JOBS: '100000000/60',
  RATE_LIMIT_UPGRADES: '100000000/60',
};

/** The longest default-model output (30 s of audio, about 1.3 MB) a download measures. */
const downloadInput = { prompt: 'a long piece to download', seed: 5, duration: 30 };

interface Way {
  name: string;
  /** A request of this way: what it fetches, with which headers (signed anew each time). */
  request(path: string): Promise<[string, Record<string, string>]>;
  times: number[];
  bytes: number;
}

async function signedDirect(origin: OriginProcess, secret: string, token: string, path: string) {
  const { headers } = await signedLikeTheEdge(
    secret,
    { method: 'GET', path, headers: { authorization: `Bearer ${token}` } },
    { clientIp: '127.0.0.1' },
  );
  return [`${origin.url}${path}`, headers] as [string, Record<string, string>];
}

/** One account and one job of `model` through `base`; answers its token and the job, ended. */
async function accountWithJob(base: string, model: string, input: Record<string, unknown>) {
  const api = apiClient(base);
  const { token } = await api.signUp();
  const created = await api.call<Job>('POST', '/v1/jobs', { token, body: { model, input } });
  if (created.status !== 202) throw new Error(`bench job refused: ${created.status}`);
  const job = await api.waitForJob(token, created.body.id, undefined, 60_000);
  if (job.status !== 'succeeded') throw new Error(`bench job ${job.status}`);
  return { token, job };
}

/** Runs each way once per round, in turn, `rounds` times; the first fifth warms up. */
async function interleaved(ways: Way[], path: (way: Way) => string, rounds: number) {
  for (let i = 0; i < rounds; i++) {
    for (const way of ways) {
      const [url, headers] = await way.request(path(way));
      const t0 = performance.now();
      const res = await fetch(url, { headers });
      const body = await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${way.name} ${url}: ${res.status}`);
      way.times.push(performance.now() - t0);
      way.bytes = body.byteLength;
    }
  }
  const warm = Math.min(20, Math.floor(rounds / 5));
  for (const way of ways) way.times = way.times.slice(warm);
}

/**
 * What the edge adds to a request, and how fast outputs come down:
 * - `GET /v1/jobs/:id` through the local edge (workerd: CORS, the default budget's
 *   rate-limiting binding, signing, the origin pool) in front of one origin on SQLite, and in
 *   front of two origins on PostgreSQL, each beside the same request straight to an origin
 *   (signed by this process, so the origin does the same work): `edge_added_ms_p50` and
 *   `edge_two_origins_added_ms_p50`;
 * - the same request to the one-origin edge's Worker itself, past `wrangler dev`'s proxy
 *   (`workerEntryOf`): `edge_worker_added_ms_p50`, the Worker's own; and, to tell its parts
 *   apart, to the entry of an edge with rate limiting off and of a Worker that only passes
 *   requests on (bench/edge-floor, what any Worker pays in this dev runtime);
 * - the download of a 30 s output (about 1.3 MB) from the edge's R2 bucket (the cluster's
 *   outputs), from one origin's own disk straight, and from that disk through the edge.
 * All measured in one run, one request of each way in turn.
 */
export async function edgeAddedLatency(options: { requests: number; downloads: number }) {
  const secret = randomBytes(32).toString('hex');
  // Shared with the edge, which verifies each session token to count it by its user.
  const jwtSecret = `bench-jwt-${randomBytes(24).toString('hex')}`;
  const started: { origin?: OriginProcess; edges: EdgeProcess[]; cluster?: Cluster } = {
    edges: [],
  };
  try {
    started.origin = await startOriginProcess({
      env: {
        EDGE_SIGNATURE_CHECK: 'on',
        EDGE_SIGNING_SECRET: secret,
        JWT_SECRET: jwtSecret,
        LOG_LEVEL: 'warn',
      },
    });
    const origin = started.origin;
    const vars = {
      ...unlimited,
      ORIGIN_URL: origin.url,
      EDGE_SIGNING_SECRET: secret,
      JWT_SECRET: jwtSecret,
    };
    // Each kept as it starts, so that one failing to start leaves none of the others running.
    const kept = (edge: EdgeProcess) => {
      started.edges.push(edge);
      return edge;
    };
    const floorConfig = join(repoRoot, 'bench/edge-floor/wrangler.toml');
    const [edge, edgeNoLimits, floor] = await Promise.all([
      startEdgeProcess(vars).then(kept),
      startEdgeProcess({ ...vars, RATE_LIMIT_ENABLED: 'false' }).then(kept),
      startEdgeProcess({ ORIGIN_URL: origin.url }, { config: floorConfig }).then(kept),
    ]);
    const entries = await Promise.all([
      workerEntryOf(edge),
      workerEntryOf(edgeNoLimits),
      workerEntryOf(floor, 'edge-floor'),
    ]);
    // Where the process table does not show the Worker entries, the rows past wrangler's proxy
    // are left out (null), and `edge_worker_skipped` says why.
    const entryMissing = entries.map((e) => ('missing' in e ? e.missing : undefined)).find(Boolean);
    const [entry = '', entryNoLimits = '', floorEntry = ''] = entries.map((e) =>
      'url' in e ? e.url : '',
    );
    const single = await accountWithJob(edge.url, 'steps', { steps: 1, stepMs: 0 });
    const bearer = { authorization: `Bearer ${single.token}` };
    const publicPortWay: Way = {
      name: 'edge, one origin',
      times: [],
      bytes: 0,
      request: async (p) => [`${edge.url}${p}`, bearer],
    };
    const entryWays: Way[] = [
      {
        name: "the edge's Worker entry",
        times: [],
        bytes: 0,
        request: async (p) => [`${entry}${p}`, bearer],
      },
      {
        name: 'the Worker entry, rate limiting off',
        times: [],
        bytes: 0,
        request: async (p) => [`${entryNoLimits}${p}`, bearer],
      },
      {
        name: 'a pass-through Worker entry',
        times: [],
        bytes: 0,
        request: (p) =>
          signedDirect(origin, secret, single.token, p).then(([url, headers]) => [
            url.replace(origin.url, floorEntry),
            headers,
          ]),
      },
    ];
    const directWay: Way = {
      name: 'direct',
      times: [],
      bytes: 0,
      request: (p) => signedDirect(origin, secret, single.token, p),
    };
    const one: Way[] = [publicPortWay, ...(entryMissing ? [] : entryWays), directWay];
    const withTwo: Way[] = [];
    let twoPath = '';
    const downloads: Way[] = [];
    const missing = postgresMissing();
    if (!missing) {
      started.cluster = await startCluster(2, {
        env: { LOG_LEVEL: 'warn', POOL_THREADS: '1' },
        edge: { vars: unlimited },
      });
      const cluster = started.cluster;
      const clusterEdge = cluster.edge?.url ?? '';
      const first = cluster.origins[0] as OriginProcess;
      const clusterSecret = cluster.env.EDGE_SIGNING_SECRET ?? '';
      const two = await accountWithJob(clusterEdge, 'steps', { steps: 1, stepMs: 0 });
      twoPath = `/v1/jobs/${two.job.id}`;
      withTwo.push(
        {
          name: 'edge, two origins',
          times: [],
          bytes: 0,
          request: async (p) => [`${clusterEdge}${p}`, { authorization: `Bearer ${two.token}` }],
        },
        {
          name: 'direct to one of them',
          times: [],
          bytes: 0,
          request: (p) => signedDirect(first, clusterSecret, two.token, p),
        },
      );
      // The same 30 s output, kept in R2 by the cluster, on disk by the single origin.
      const inR2 = await accountWithJob(clusterEdge, 'tone-diffusion', downloadInput);
      const onDisk = await accountWithJob(edge.url, 'tone-diffusion', downloadInput);
      downloads.push(
        {
          name: 'r2 at the edge',
          times: [],
          bytes: 0,
          request: async () => [
            `${clusterEdge}${inR2.job.output?.url}`,
            { authorization: `Bearer ${inR2.token}` },
          ],
        },
        {
          name: 'origin disk, direct',
          times: [],
          bytes: 0,
          request: () => signedDirect(origin, secret, onDisk.token, onDisk.job.output?.url ?? ''),
        },
        {
          name: 'origin disk, through the edge',
          times: [],
          bytes: 0,
          request: async () => [
            `${edge.url}${onDisk.job.output?.url}`,
            { authorization: `Bearer ${onDisk.token}` },
          ],
        },
      );
    }
    await interleaved(one, () => `/v1/jobs/${single.job.id}`, options.requests);
    if (withTwo.length > 0) await interleaved(withTwo, () => twoPath, options.requests);
    if (downloads.length > 0) await interleaved(downloads, () => '', options.downloads);

    const p50 = (way: Way | undefined) => percentile(way?.times ?? [], 50);
    const mbPerS = (way: Way | undefined) =>
      way && way.times.length > 0 ? round(way.bytes / 1e6 / (p50(way) / 1000)) : null;
    const [r2, disk, diskViaEdge] = downloads;
    const [publicPort, direct] = [publicPortWay, directWay];
    const [worker, workerNoLimits, passThrough] = entryWays;
    /** `value`, or null where the Worker entries were not found. */
    const past = (value: number) => (entryMissing ? null : round(value));
    return {
      edge_added_ms_p50: round(p50(publicPort) - p50(direct)),
      edge_ms_p50: round(p50(publicPort)),
      direct_ms_p50: round(p50(direct)),
      edge_ms_p99: round(percentile(publicPort?.times ?? [], 99)),
      direct_ms_p99: round(percentile(direct?.times ?? [], 99)),
      // The Worker's own, past wrangler's proxy, and what makes it up (differences of p50s);
      // null where the entries were not found (`edge_worker_skipped` says why).
      edge_worker_skipped: entryMissing ?? null,
      edge_worker_added_ms_p50: past(p50(worker) - p50(direct)),
      edge_worker_ms_p50: past(p50(worker)),
      edge_worker_ms_p99: past(percentile(worker?.times ?? [], 99)),
      edge_proxy_hop_ms_p50: past(p50(publicPort) - p50(worker)),
      edge_rate_limit_ms_p50: past(p50(worker) - p50(workerNoLimits)),
      edge_worker_code_ms_p50: past(p50(workerNoLimits) - p50(passThrough)),
      edge_dev_runtime_ms_p50: past(p50(passThrough) - p50(direct)),
      // Null where PostgreSQL is not installed (`edge_two_origins_skipped` says so).
      edge_two_origins_skipped: missing ?? null,
      edge_two_origins_added_ms_p50: missing ? null : round(p50(withTwo[0]) - p50(withTwo[1])),
      edge_two_origins_ms_p50: missing ? null : round(p50(withTwo[0])),
      download_bytes: r2?.bytes ?? null,
      download_r2_edge_ms_p50: missing ? null : round(p50(r2)),
      download_origin_ms_p50: missing ? null : round(p50(disk)),
      download_origin_via_edge_ms_p50: missing ? null : round(p50(diskViaEdge)),
      download_r2_edge_mb_per_s: mbPerS(r2),
      download_origin_mb_per_s: mbPerS(disk),
      download_origin_via_edge_mb_per_s: mbPerS(diskViaEdge),
      // What a client sees either way: through the edge, from R2 or from an origin's disk.
      download_r2_vs_origin_ratio: missing ? null : round(p50(diskViaEdge) / p50(r2)),
    };
  } finally {
    await Promise.all(started.edges.map(stopEdgeProcess));
    if (started.origin) {
      await started.origin.kill();
      removeDataDir(started.origin.dataDir);
    }
    await started.cluster?.stop();
  }
}
