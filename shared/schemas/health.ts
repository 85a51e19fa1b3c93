import { z } from 'zod';

export const healthStatuses = ['healthy', 'degraded', 'starting'] as const;
export type HealthStatus = (typeof healthStatuses)[number];

/**
 * Answer of `GET /v1/health`: 503 while `starting` and while stopping; `degraded` (200)
 * when the disk is low.
 */
export const healthSchema = z
  .object({
    status: z.enum(healthStatuses),
    /** The answering origin's id (`ORIGIN_ID`): which member of a cluster this is. */
    originId: z.string(),
    modelsLoaded: z.boolean(),
    device: z.string(),
    /** Jobs waiting, in the whole cluster (the queue is the database's). */
    queueLength: z.number().int().min(0),
    /** Jobs this origin is running now. */
    activeJobs: z.number().int().min(0),
    version: z.string(),
    /** Free space where the data lives; `low` refuses new jobs (503 `disk_full`). */
    disk: z.object({
      freeBytes: z.number().min(0),
      freePercent: z.number().min(0).max(100),
      low: z.boolean(),
    }),
    /** True while a graceful shutdown drains the running jobs (answered with 503). */
    stopping: z.boolean(),
  })
  .meta({ id: 'Health' });
export type Health = z.infer<typeof healthSchema>;
