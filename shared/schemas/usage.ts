import { z } from 'zod';
import { creditFlowsSchema } from './stats.ts';
import { timestampSchema } from './timestamp.ts';

/** The most days `GET /v1/usage` looks back over. */
export const maxUsageDays = 90;
/** How far from UTC a day may begin, in minutes (UTC−14:00 … UTC+14:00). */
export const maxUtcOffsetMinutes = 14 * 60;

/** Query of `GET /v1/usage`. */
export const usageQuerySchema = z.strictObject({
  days: z.coerce
    .number()
    .int()
    .min(1)
    .max(maxUsageDays)
    .default(30)
    .describe('how many days, today included: 1..90'),
  utcOffset: z.coerce
    .number()
    .int()
    .min(-maxUtcOffsetMinutes)
    .max(maxUtcOffsetMinutes)
    .default(0)
    .describe(
      "minutes east of UTC at which the caller's days begin (a browser's `-new Date().getTimezoneOffset()`)",
    ),
});
export type UsageQuery = z.infer<typeof usageQuerySchema>;

const jobCounts = {
  jobs: z.number().int().min(0).describe('jobs created that day, in any state'),
  succeeded: z.number().int().min(0),
  failed: z.number().int().min(0),
  canceled: z.number().int().min(0),
  open: z.number().int().min(0).describe('queued or running'),
};

/** One day of a user's usage: the jobs created that day, and the ledger rows written that day. */
export const usageDaySchema = z
  .object({
    date: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/)
      .describe("the day, in the caller's offset (`YYYY-MM-DD`)"),
    start: timestampSchema.describe("the day's first instant"),
    ...jobCounts,
    credits: creditFlowsSchema,
  })
  .meta({ id: 'UsageDay' });
export type UsageDay = z.infer<typeof usageDaySchema>;

/** Answer of `GET /v1/usage`. */
export const usageAnswerSchema = z
  .object({
    days: z.number().int().min(1),
    utcOffset: z.number().int(),
    from: timestampSchema.describe('the first day’s start'),
    to: timestampSchema.describe('the moment of the answer'),
    data: z.array(usageDaySchema).describe('one entry per day, oldest first, empty days too'),
    total: z.object({ ...jobCounts, credits: creditFlowsSchema }),
  })
  .meta({ id: 'UsageAnswer' });
export type UsageAnswer = z.infer<typeof usageAnswerSchema>;
