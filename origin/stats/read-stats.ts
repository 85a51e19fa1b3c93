import { ApiError } from '../../shared/errors.ts';
import {
  type BucketStats,
  resolveBucket,
  type StatsAnswer,
  type StatsNow,
  type StatsQuery,
  type WindowCredits,
  windowMs,
} from '../../shared/schemas/stats.ts';
import type { Principal } from '../auth/principal.ts';
import type { Services } from '../services.ts';
import type { JobSample, LedgerSample } from '../store/store.ts';
import { type BucketGrid, bucketGrid, bucketStarts, inBuckets } from './buckets.ts';
import { creditFlows } from './credit-flows.ts';
import { byModel, quality } from './summarize.ts';

type Deps = { store: Pick<Services['store'], 'accounts' | 'stats'>; originId: string };

/**
 * True when an operator granted the account administration (`npm run admin -- grant`): read
 * on every request, so a grant or a revoke holds from the account's next request.
 */
async function isAdmin(deps: Pick<Deps, 'store'>, principal: Principal): Promise<boolean> {
  const user = await deps.store.accounts.findUserById(principal.userId);
  return user?.isAdmin === true;
}

const iso = (at: number) => new Date(at).toISOString();

/** The quality of the jobs created in each bucket, every bucket listed. */
function seriesOf(grid: BucketGrid, samples: readonly JobSample[]): BucketStats[] {
  const starts = bucketStarts(grid);
  return inBuckets(grid, samples, (s) => s.createdAt).map((jobs, i) => ({
    start: iso(starts[i] ?? 0),
    ...quality(jobs),
  }));
}

/** The credits of the window, and of each bucket with a grid. */
function creditsOf(rows: readonly LedgerSample[], grid: BucketGrid | undefined): WindowCredits {
  if (!grid) return creditFlows(rows);
  const starts = bucketStarts(grid);
  const series = inBuckets(grid, rows, (r) => r.createdAt).map((inBucket, i) => ({
    start: iso(starts[i] ?? 0),
    ...creditFlows(inBucket),
  }));
  return { ...creditFlows(rows), series };
}

/**
 * The queue and the running jobs now: per model, and the running ones per origin holding
 * their claim. The answering origin is listed even when it runs nothing, so a lone origin's
 * dashboard says 0 rather than nothing; other idle origins have no row to be counted from.
 */
async function nowOf(deps: Deps, at: number): Promise<StatsNow> {
  const load = await deps.store.stats.load();
  const models = new Map<string, { model: string; queued: number; running: number }>();
  const entry = (model: string) => {
    const found = models.get(model) ?? { model, queued: 0, running: 0 };
    models.set(model, found);
    return found;
  };
  const origins = new Map<string, number>([[deps.originId, 0]]);
  for (const { model, jobs } of load.queued) entry(model).queued += jobs;
  for (const { model, originId, jobs } of load.running) {
    entry(model).running += jobs;
    // A running job always has an owner; `unclaimed` would say the store broke that.
    const owner = originId ?? 'unclaimed';
    origins.set(owner, (origins.get(owner) ?? 0) + jobs);
  }
  const sum = (list: { jobs: number }[]) => list.reduce((n, r) => n + r.jobs, 0);
  return {
    at: iso(at),
    queued: sum(load.queued),
    running: sum(load.running),
    models: [...models.values()].sort((a, b) => (a.model < b.model ? -1 : 1)),
    origins: [...origins]
      .map(([originId, running]) => ({ originId, running }))
      .sort((a, b) => (a.originId < b.originId ? -1 : 1)),
  };
}

/**
 * Per-model quality of the jobs created in the window ending `now`, and the credits of the
 * ledger rows written in it: the caller's own, or (`scope=all`, administrators only, else 403
 * `forbidden`) every user's, with the queue and running jobs now. With `bucket`, each model,
 * the overall figures and the credits also come as a series, one entry per bucket. One read of
 * the window's jobs and one of its ledger rows, through the creation-time indexes.
 *
 * @example
 * await readStats(services, principal, { window: '24h', scope: 'all', bucket: 'auto' });
 */
export async function readStats(
  deps: Deps,
  principal: Principal,
  query: StatsQuery,
  now = Date.now(),
): Promise<StatsAnswer> {
  if (query.scope === 'all' && !(await isAdmin(deps, principal))) {
    throw new ApiError('forbidden', "Only administrators may read every user's stats.");
  }
  const span = windowMs(query.window);
  if (span === undefined) throw new ApiError('invalid_request', `Bad window '${query.window}'.`);
  const bucket = query.bucket === undefined ? undefined : resolveBucket(query.window, query.bucket);
  const bucketMs = bucket === undefined ? undefined : windowMs(bucket);
  const from = now - span;
  const grid = bucketMs === undefined ? undefined : bucketGrid(from, now, bucketMs);
  const window = {
    from,
    to: now,
    ...(query.scope === 'own' ? { userId: principal.userId } : {}),
  };
  const [samples, ledger, load] = await Promise.all([
    deps.store.stats.jobSamples(window),
    deps.store.stats.ledgerSamples(window),
    query.scope === 'all' ? nowOf(deps, now) : undefined,
  ]);
  const withSeries = (jobs: readonly JobSample[]) =>
    grid ? { ...quality(jobs), series: seriesOf(grid, jobs) } : quality(jobs);
  return {
    scope: query.scope,
    window: query.window,
    from: iso(from),
    to: iso(now),
    data: byModel(samples).map(([model, jobs]) => ({ model, ...withSeries(jobs) })),
    ...(bucket !== undefined && bucketMs !== undefined ? { bucket, bucketMs } : {}),
    overall: withSeries(samples),
    credits: creditsOf(ledger, grid),
    ...(load ? { now: load } : {}),
  };
}
