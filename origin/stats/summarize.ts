import type { ModelStats, Percentiles, Quality } from '../../shared/schemas/stats.ts';
import type { JobSample } from '../store/store.ts';
import { sigmaLevel } from './sigma.ts';

/**
 * Nearest-rank percentiles (the smallest value with at least p% of the sample at or
 * below it): no interpolation, so every answer is a time some job really took.
 *
 * @example
 * percentiles([40, 10, 30, 20]); // { samples: 4, p50: 20, p95: 40, p99: 40 }
 */
export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((x, y) => x - y);
  // Integer arithmetic on the rank: ceil(p·n/100), so 95·20/100 is exactly 19.
  const rank = (p: number) => sorted[Math.max(1, Math.ceil((p * sorted.length) / 100)) - 1];
  return {
    samples: sorted.length,
    p50: rank(50) ?? null,
    p95: rank(95) ?? null,
    p99: rank(99) ?? null,
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** The quality of some sampled jobs: outcomes, rates, waits and run times. */
export function quality(samples: readonly JobSample[]): Quality {
  let succeeded = 0;
  let failed = 0;
  let canceled = 0;
  const failedByCode: Record<string, number> = {};
  const waits: number[] = [];
  const runs: number[] = [];
  for (const job of samples) {
    if (job.status === 'succeeded') succeeded++;
    if (job.status === 'canceled') canceled++;
    if (job.status === 'failed') {
      failed++;
      const code = job.errorCode ?? 'unknown';
      failedByCode[code] = (failedByCode[code] ?? 0) + 1;
    }
    if (job.startedAt !== null) waits.push(job.startedAt - job.createdAt);
    // A canceled run was cut short: its time says nothing about how long the model takes.
    const ran = job.status === 'succeeded' || job.status === 'failed';
    if (ran && job.startedAt !== null && job.finishedAt !== null) {
      runs.push(job.finishedAt - job.startedAt);
    }
  }
  const opportunities = succeeded + failed;
  const dpmo = opportunities === 0 ? null : (failed / opportunities) * 1_000_000;
  return {
    jobs: samples.length,
    succeeded,
    failed,
    canceled,
    open: samples.length - succeeded - failed - canceled,
    failedByCode,
    successRate: opportunities === 0 ? null : succeeded / opportunities,
    dpmo,
    sigma: dpmo === null ? null : round2(sigmaLevel(dpmo)),
    queueWaitMs: percentiles(waits),
    runTimeMs: percentiles(runs),
  };
}

/** The quality of one model over its sampled jobs. */
export function summarize(model: string, samples: readonly JobSample[]): ModelStats {
  return { model, ...quality(samples) };
}

/** The samples of each model, ordered by model id. */
export function byModel(samples: readonly JobSample[]): [model: string, JobSample[]][] {
  const models = new Map<string, JobSample[]>();
  for (const job of samples) {
    const list = models.get(job.model);
    if (list) list.push(job);
    else models.set(job.model, [job]);
  }
  return [...models].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** One summary per model, ordered by model id. */
export function summarizeByModel(samples: readonly JobSample[]): ModelStats[] {
  return byModel(samples).map(([model, jobs]) => summarize(model, jobs));
}
