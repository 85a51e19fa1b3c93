import { z } from 'zod';
import { modelPoolSchema } from './models.ts';

export const healthStatuses = ['healthy', 'degraded', 'starting'] as const;
export type HealthStatus = (typeof healthStatuses)[number];

/**
 * Answer of `GET /v1/health`: 503 while `starting` (no model's pool loaded yet) and while
 * stopping; `degraded` (200) when the disk is low.
 */
export const healthSchema = z
  .object({
    status: z.enum(healthStatuses),
    /** The answering origin's id (`ORIGIN_ID`): which member of a cluster this is. */
    originId: z.string(),
    /** Every model's pool loaded (some may serve before: see `models`). */
    modelsLoaded: z.boolean(),
    device: z.string(),
    /** Each model's pool on this origin; a `loading` one refuses its jobs, the others serve. */
    // Default: an origin of an older release, read by the edge during a rolling deploy.
    models: z.array(modelPoolSchema.extend({ id: z.string() })).default([]),
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

/** One configured origin in the edge's health: its own answer, or none in time. */
export const originHealthSchema = z
  .union([
    healthSchema.extend({ index: z.number().int().min(0) }),
    z.object({ index: z.number().int().min(0), status: z.literal('unreachable') }),
  ])
  .meta({ id: 'OriginHealth' });

/**
 * Answer of `GET /v1/health` through the edge: every configured origin asked at once, and the
 * origin's fields for the cluster. `status`: `healthy` when every origin serves and is
 * healthy, `degraded` when some serve but others are down, stopping, starting or degraded,
 * `starting` (503) when none serves. `modelsLoaded`: some serving origin has all its models
 * loaded; each origin's models, per model, are in its entry of `origins`. `device`, `version`: those of the origins that answered, comma-separated when they
 * differ. `queueLength`: the cluster's queue; `activeJobs`: summed over the origins. `disk`:
 * the tightest origin's (null when none answered). `stopping`: every origin that answered is
 * stopping. `origins`: in the configured order (`index`), named by their `originId`, never
 * by address.
 */
export const clusterHealthSchema = healthSchema
  .omit({ originId: true, models: true })
  .extend({
    disk: healthSchema.shape.disk.nullable(),
    origins: z.array(originHealthSchema).min(1),
  })
  .meta({ id: 'ClusterHealth' });
export type ClusterHealth = z.infer<typeof clusterHealthSchema>;
