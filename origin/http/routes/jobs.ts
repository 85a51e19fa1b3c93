import { ApiError } from '../../../shared/errors.ts';
import {
  createJobSchema,
  idempotencyKeySchema,
  listJobsQuerySchema,
} from '../../../shared/schemas/jobs.ts';
import { cancelJob } from '../../jobs/cancel-job.ts';
import { createJob } from '../../jobs/create-job.ts';
import { getJob, listJobs } from '../../jobs/read-jobs.ts';
import type { App } from '../context.ts';
import { requireUser } from '../middleware/require-user.ts';
import { parseOr400, pathId, readJson } from '../validation.ts';
import { serveOutput } from './job-output.ts';

/** The jobs routes of API.md; every one needs a principal and sees only its own jobs. */
export function registerJobs(app: App): void {
  // '/v1/jobs/*' matches '/v1/jobs' itself too.
  app.use('/v1/jobs/*', requireUser());

  app.post('/v1/jobs', async (c) => {
    const header = c.req.header('idempotency-key');
    if (header !== undefined && !idempotencyKeySchema.safeParse(header).success) {
      throw new ApiError(
        'invalid_request',
        'Idempotency-Key must be 1 to 255 printable characters.',
      );
    }
    const body = await readJson(c, createJobSchema);
    const { job, replayed } = await createJob(c.get('services'), c.get('principal'), body, header);
    return c.json(job, replayed ? 200 : 202);
  });

  app.get('/v1/jobs', async (c) => {
    const query = parseOr400(listJobsQuerySchema, c.req.query(), 'query');
    return c.json(await listJobs(c.get('services'), c.get('principal'), query));
  });

  app.get('/v1/jobs/:id', async (c) =>
    c.json(await getJob(c.get('services'), c.get('principal'), pathId(c))),
  );

  app.post('/v1/jobs/:id/cancel', async (c) =>
    c.json(await cancelJob(c.get('services'), c.get('principal'), pathId(c))),
  );

  app.get('/v1/jobs/:id/output', serveOutput);
}
