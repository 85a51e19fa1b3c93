import { z } from 'zod';
import { timestampSchema } from './timestamp.ts';

const unitMs = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const windowPattern = /^([1-9][0-9]{0,5})([mhd])$/;
const bucketPattern = /^(auto|[1-9][0-9]{0,5}[mhd])$/;

/** The longest window `GET /v1/stats` looks back over. */
export const maxStatsWindowMs = 90 * unitMs.d;

/**
 * A window such as `30m`, `24h` or `7d` in milliseconds; undefined when it is not one.
 *
 * @example
 * windowMs('24h'); // 86_400_000
 */
export function windowMs(window: string): number | undefined {
  const match = windowPattern.exec(window);
  if (!match?.[1] || !match[2]) return undefined;
  return Number(match[1]) * unitMs[match[2] as keyof typeof unitMs];
}

/** The most buckets one answer of `GET /v1/stats` holds. */
export const maxStatsBuckets = 500;

/** The sizes `bucket=auto` picks from, smallest first. */
export const autoBucketSizes = ['1m', '5m', '15m', '1h', '6h', '1d'] as const;
/** `bucket=auto` takes the smallest size whose buckets over the window are at most this many. */
const autoBucketsAtMost = 60;

/**
 * Buckets are aligned on multiples of their size since the epoch (UTC), so a bucket holds the
 * same jobs from one poll to the next; the window's first and last buckets are partial. This is
 * how many a window of `windowMs` can touch, at most.
 *
 * @example
 * bucketsAtMost(3_600_000, 60_000); // 61
 */
export function bucketsAtMost(windowMs: number, bucketMs: number): number {
  return Math.ceil(windowMs / bucketMs) + 1;
}

/**
 * The bucket size a query names, `auto` resolved from its window: 1h → 1m, 24h → 1h,
 * 7d → 6h, 90d → 1d (the smallest size with at most 60 buckets, else 1d).
 *
 * @example
 * resolveBucket('24h', 'auto'); // '1h'
 * resolveBucket('24h', '15m'); // '15m'
 */
export function resolveBucket(window: string, bucket: string): string {
  if (bucket !== 'auto') return bucket;
  const span = windowMs(window) ?? 0;
  return (
    autoBucketSizes.find((size) => Math.ceil(span / (windowMs(size) ?? 1)) <= autoBucketsAtMost) ??
    '1d'
  );
}

export const statsScopes = ['own', 'all'] as const;

/** Query of `GET /v1/stats`. */
export const statsQuerySchema = z
  .strictObject({
    window: z
      .string()
      .regex(windowPattern, 'a number and a unit: m, h or d (e.g. 24h)')
      .refine((w) => (windowMs(w) ?? Infinity) <= maxStatsWindowMs, 'at most 90d')
      .default('24h')
      .describe('how far back, by job creation time: `30m`, `24h`, `7d`, … at most `90d`'),
    scope: z
      .enum(statsScopes)
      .default('own')
      .describe(
        "`own` jobs, or `all` users' jobs (administrators only: a flag an operator grants)",
      ),
    bucket: z
      .string()
      .regex(bucketPattern, '`auto`, or a number and a unit: m, h or d (e.g. 1h)')
      .optional()
      .describe(
        'adds a series per interval of this size (`5m`, `1h`, `1d`, …), aligned on the epoch (UTC); `auto` picks one from the window (1h → 1m, 24h → 1h, 7d → 6h); at most 500 buckets',
      ),
  })
  .superRefine((query, ctx) => {
    if (query.bucket === undefined) return;
    const span = windowMs(query.window);
    const size = windowMs(resolveBucket(query.window, query.bucket));
    if (span === undefined || size === undefined) return;
    if (size > span) {
      ctx.addIssue({ code: 'custom', path: ['bucket'], message: 'no longer than the window' });
    } else if (bucketsAtMost(span, size) > maxStatsBuckets) {
      ctx.addIssue({
        code: 'custom',
        path: ['bucket'],
        message: `at most ${maxStatsBuckets} buckets: ${bucketsAtMost(span, size)} of ${query.bucket} in ${query.window}`,
      });
    }
  });
export type StatsQuery = z.infer<typeof statsQuerySchema>;

/** Nearest-rank percentiles of a sample, in ms; null when the sample is empty. */
export const percentilesSchema = z.object({
  samples: z.number().int().min(0),
  p50: z.number().nullable(),
  p95: z.number().nullable(),
  p99: z.number().nullable(),
});
export type Percentiles = z.infer<typeof percentilesSchema>;

/** What the quality of some jobs is made of: their outcomes, rates and times. */
const qualityShape = {
  jobs: z.number().int().min(0).describe('jobs created in the window, in any state'),
  succeeded: z.number().int().min(0),
  failed: z.number().int().min(0).describe('every failure, timed out and interrupted included'),
  canceled: z.number().int().min(0),
  open: z.number().int().min(0).describe('queued or running'),
  failedByCode: z.record(z.string(), z.number().int().min(1)),
  successRate: z
    .number()
    .min(0)
    .max(1)
    .nullable()
    .describe('succeeded / (succeeded + failed); canceled jobs are not opportunities'),
  dpmo: z
    .number()
    .min(0)
    .max(1_000_000)
    .nullable()
    .describe('failed per million opportunities (succeeded + failed)'),
  sigma: z
    .number()
    .min(0)
    .max(6)
    .nullable()
    .describe('short-term sigma level, 1.5 shift, 2 decimals, within 0..6 (6 when dpmo is 0)'),
  queueWaitMs: percentilesSchema.describe('startedAt − createdAt, of jobs that started'),
  runTimeMs: percentilesSchema.describe('finishedAt − startedAt, of succeeded and failed jobs'),
};
export type Quality = z.infer<z.ZodObject<typeof qualityShape>>;

/** The quality of the jobs created in one bucket of the window. */
export const bucketStatsSchema = z
  .object({ start: timestampSchema.describe("the bucket's first instant"), ...qualityShape })
  .meta({ id: 'BucketStats' });
export type BucketStats = z.infer<typeof bucketStatsSchema>;

const seriesSchema = z
  .array(bucketStatsSchema)
  .optional()
  .describe('with `bucket`: one entry per bucket of the window, oldest first, empty ones too');

/** Quality of one model over the jobs created in the window. */
export const modelStatsSchema = z
  .object({ model: z.string(), ...qualityShape, series: seriesSchema })
  .meta({ id: 'ModelStats' });
export type ModelStats = z.infer<typeof modelStatsSchema>;

/** Quality of every model's jobs together (percentiles over all of them). */
export const overallStatsSchema = z
  .object({ ...qualityShape, series: seriesSchema })
  .meta({ id: 'OverallStats' });
export type OverallStats = z.infer<typeof overallStatsSchema>;

/**
 * Credits moved by the ledger rows written in a span, by reason, as positive amounts (but
 * `adjusted` and `net`, signed): what was bought (`purchased`: sold, to an operator), granted
 * at signup, spent on jobs, refunded for jobs, taken back by a chargeback or refund of a
 * payment, and adjusted by hand; `net` is the sum of every row's delta.
 */
export const creditFlowsSchema = z
  .object({
    purchased: z.number().int().min(0),
    granted: z.number().int().min(0),
    spent: z.number().int().min(0),
    refunded: z.number().int().min(0),
    takenBack: z.number().int().min(0),
    adjusted: z.number().int(),
    net: z.number().int(),
  })
  .meta({ id: 'CreditFlows' });
export type CreditFlows = z.infer<typeof creditFlowsSchema>;

/** The credits of the window, and with `bucket` of each bucket. */
export const windowCreditsSchema = creditFlowsSchema
  .extend({
    series: z
      .array(creditFlowsSchema.extend({ start: timestampSchema }).meta({ id: 'BucketCredits' }))
      .optional()
      .describe('with `bucket`: one entry per bucket, as `data[].series`'),
  })
  .meta({ id: 'WindowCredits' });
export type WindowCredits = z.infer<typeof windowCreditsSchema>;

/**
 * The jobs queued and running at the moment of the answer, every user's: per model, and the
 * running ones per origin (the `ORIGIN_ID` holding their claim; the answering origin is listed
 * even when it runs none). The queue is the database's, shared by a cluster's origins.
 */
export const statsNowSchema = z
  .object({
    at: timestampSchema,
    queued: z.number().int().min(0),
    running: z.number().int().min(0),
    models: z.array(
      z.object({
        model: z.string(),
        queued: z.number().int().min(0),
        running: z.number().int().min(0),
      }),
    ),
    origins: z.array(
      z.object({
        originId: z.string().describe("the origin holding the jobs' claims (`ORIGIN_ID`)"),
        running: z.number().int().min(0),
      }),
    ),
  })
  .meta({ id: 'StatsNow' });
export type StatsNow = z.infer<typeof statsNowSchema>;

/** Answer of `GET /v1/stats`. */
export const statsAnswerSchema = z
  .object({
    scope: z.enum(statsScopes),
    window: z.string(),
    from: timestampSchema,
    to: timestampSchema,
    data: z.array(modelStatsSchema).describe('one entry per model, by model id'),
    bucket: z
      .string()
      .optional()
      .describe('with `bucket`: the size of each bucket (auto resolved)'),
    bucketMs: z.number().int().min(60_000).optional(),
    overall: overallStatsSchema.describe("every model's jobs of the window together"),
    credits: windowCreditsSchema.describe(
      "ledger rows written in the window: the caller's own, or (scope=all) every user's",
    ),
    now: statsNowSchema
      .optional()
      .describe('scope=all: the queue and the running jobs at the moment of the answer'),
  })
  .meta({ id: 'StatsAnswer' });
export type StatsAnswer = z.infer<typeof statsAnswerSchema>;
