import type { UsageAnswer, UsageQuery } from '../../shared/schemas/usage.ts';
import type { Principal } from '../auth/principal.ts';
import type { Services } from '../services.ts';
import type { JobSample } from '../store/store.ts';
import { bucketGrid, bucketStarts, inBuckets } from './buckets.ts';
import { creditFlows } from './credit-flows.ts';

type Deps = { store: Pick<Services['store'], 'stats'> };

const dayMs = 86_400_000;

/** Jobs counted by outcome: queued and running ones are `open`. */
function jobCounts(jobs: readonly JobSample[]) {
  const count = (status: JobSample['status']) => jobs.filter((j) => j.status === status).length;
  const succeeded = count('succeeded');
  const failed = count('failed');
  const canceled = count('canceled');
  return {
    jobs: jobs.length,
    succeeded,
    failed,
    canceled,
    open: jobs.length - succeeded - failed - canceled,
  };
}

/**
 * The caller's jobs and credits per day over the last `days` days, today included, in days
 * that begin at the caller's midnight (`utcOffset` minutes east of UTC): the jobs created each
 * day by outcome, and the credits of the ledger rows written each day, the very rows
 * `GET /v1/billing/ledger` lists, so the two agree row for row. Two reads, through the
 * (user_id, created_at) indexes.
 *
 * @example
 * await readUsage(services, principal, { days: 30, utcOffset: 60 });
 */
export async function readUsage(
  deps: Deps,
  principal: Principal,
  query: UsageQuery,
  now = Date.now(),
): Promise<UsageAnswer> {
  const offsetMs = query.utcOffset * 60_000;
  const today = bucketGrid(now, now, dayMs, offsetMs).first;
  const from = today - (query.days - 1) * dayMs;
  const grid = bucketGrid(from, now, dayMs, offsetMs);
  const window = { from, to: now, userId: principal.userId };
  const [jobs, ledger] = await Promise.all([
    deps.store.stats.jobSamples(window),
    deps.store.stats.ledgerSamples(window),
  ]);
  const jobDays = inBuckets(grid, jobs, (j) => j.createdAt);
  const ledgerDays = inBuckets(grid, ledger, (r) => r.createdAt);
  const data = bucketStarts(grid).map((start, i) => ({
    // The day as the caller's calendar names it: its start, moved by the offset, in UTC.
    date: new Date(start + offsetMs).toISOString().slice(0, 10),
    start: new Date(start).toISOString(),
    ...jobCounts(jobDays[i] ?? []),
    credits: creditFlows(ledgerDays[i] ?? []),
  }));
  return {
    days: query.days,
    utcOffset: query.utcOffset,
    from: new Date(from).toISOString(),
    to: new Date(now).toISOString(),
    data,
    total: { ...jobCounts(jobs), credits: creditFlows(ledger) },
  };
}
