import { z } from 'zod';
import { timestampSchema } from './timestamp.ts';

const unitMs = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const windowPattern = /^([1-9][0-9]{0,5})([mhd])$/;

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

export const statsScopes = ['own', 'all'] as const;

/** Query of `GET /v1/stats`. */
export const statsQuerySchema = z.strictObject({
  window: z
    .string()
    .regex(windowPattern, 'a number and a unit: m, h or d (e.g. 24h)')
    .refine((w) => (windowMs(w) ?? Infinity) <= maxStatsWindowMs, 'at most 90d')
    .default('24h')
    .describe('how far back, by job creation time: `30m`, `24h`, `7d`, … at most `90d`'),
  scope: z
    .enum(statsScopes)
    .default('own')
    .describe("`own` jobs, or `all` users' jobs (administrators only: a flag an operator grants)"),
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

/** Quality of one model over the jobs created in the window. */
export const modelStatsSchema = z
  .object({
    model: z.string(),
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
  })
  .meta({ id: 'ModelStats' });
export type ModelStats = z.infer<typeof modelStatsSchema>;

/** Answer of `GET /v1/stats`. */
export const statsAnswerSchema = z
  .object({
    scope: z.enum(statsScopes),
    window: z.string(),
    from: timestampSchema,
    to: timestampSchema,
    data: z.array(modelStatsSchema).describe('one entry per model, by model id'),
  })
  .meta({ id: 'StatsAnswer' });
export type StatsAnswer = z.infer<typeof statsAnswerSchema>;
