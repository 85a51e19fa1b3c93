import { z } from 'zod';
import {
  createJobSchema,
  idempotencyKeySchema,
  jobPageSchema,
  jobSchema,
  listJobsQuerySchema,
} from '../schemas/jobs.ts';
import { idParams, json, jsonBody, operation } from './operation.ts';

export const createJob = operation('createJob', {
  summary: 'Submit a job (charged at once, refunded unless it succeeds)',
  auth: true,
  request: {
    headers: z.object({
      'Idempotency-Key': idempotencyKeySchema
        .optional()
        .describe('the same key and body answer the first job; another body is a 409'),
      'Cancel-After': z
        .string()
        .max(40)
        .optional()
        .describe(
          'a duration (90s, 5m, 1h30m, 1500ms): the job still queued that long after its creation ends canceled, as with `deadline`',
        ),
    }),
    body: jsonBody(createJobSchema),
  },
  responses: {
    202: json(jobSchema, 'accepted and queued'),
    200: json(jobSchema, 'the job an earlier request with this Idempotency-Key created'),
  },
  errors: [
    'insufficient_credits',
    'conflict',
    'too_many_jobs',
    'overloaded',
    'not_ready',
    'disk_full',
  ],
});

export const listJobs = operation('listJobs', {
  summary: "The account's jobs, newest first",
  auth: true,
  request: { query: listJobsQuerySchema },
  responses: { 200: json(jobPageSchema, 'a page; follow nextCursor for the next') },
});

export const getJob = operation('getJob', {
  summary: 'A job',
  auth: true,
  request: { params: idParams },
  responses: { 200: json(jobSchema, 'the job') },
});

export const cancelJob = operation('cancelJob', {
  summary: 'Cancel a job (idempotent; 409 once it ended otherwise)',
  auth: true,
  request: { params: idParams },
  responses: { 200: json(jobSchema, 'the canceled job') },
  errors: ['conflict'],
});

/** A file of any type. */
const file = (description: string) => ({ description, content: { '*/*': {} } });

export const getJobOutput = operation('getJobOutput', {
  summary: 'The output file of a succeeded job, with Range support',
  auth: true,
  request: {
    params: idParams,
    headers: z.object({
      Range: z.string().optional().describe('one byte range, `bytes=0-1023`'),
      'If-Range': z.string().optional().describe('an ETag'),
      'If-None-Match': z.string().optional().describe('an ETag'),
    }),
  },
  responses: {
    200: file('the file'),
    206: file('the asked range of the file'),
    304: { description: 'the file is the one the client has' },
  },
  errors: ['conflict', 'gone', 'range_not_satisfiable'],
});
