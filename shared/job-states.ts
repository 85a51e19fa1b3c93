/**
 * The states of a job and the kinds of its events, without zod: the browser bundle imports
 * these, and the zod schemas in `schemas/jobs.ts` build on them.
 */

/** Job statuses, shared by the table's column and the API's enum. */
export const jobStatuses = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const;
export type JobStatus = (typeof jobStatuses)[number];
export const terminalStatuses: readonly JobStatus[] = ['succeeded', 'failed', 'canceled'];

/** Kinds of job event; each state change of a job is one, with a per-job `seq`. */
export const jobEventKinds = [
  'queued',
  'started',
  'progress',
  'succeeded',
  'failed',
  'canceled',
] as const;
export type JobEventKind = (typeof jobEventKinds)[number];
