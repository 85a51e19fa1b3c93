import * as api from '../../../shared/api/jobs.ts';
import { cancelJob } from '../../jobs/cancel-job.ts';
import { createJob } from '../../jobs/create-job.ts';
import { getJob, listJobs } from '../../jobs/read-jobs.ts';
import type { App } from '../context.ts';
import { enforce } from '../enforce.ts';
import { serveOutput } from './job-output.ts';

/** The jobs routes of API.md; every one needs a principal and sees only its own jobs. */
export function registerJobs(app: App): void {
  app.openapi(enforce(api.createJob), async (c) => {
    const { job, replayed } = await createJob(
      c.get('services'),
      c.get('principal'),
      c.req.valid('json'),
      {
        idempotencyKey: c.req.valid('header')['Idempotency-Key'],
        cancelAfter: c.req.valid('header')['Cancel-After'],
      },
    );
    return c.json(job, replayed ? 200 : 202);
  });

  app.openapi(enforce(api.listJobs), async (c) =>
    c.json(await listJobs(c.get('services'), c.get('principal'), c.req.valid('query')), 200),
  );

  app.openapi(enforce(api.getJob), async (c) =>
    c.json(await getJob(c.get('services'), c.get('principal'), c.req.valid('param').id), 200),
  );

  app.openapi(enforce(api.cancelJob), async (c) =>
    c.json(await cancelJob(c.get('services'), c.get('principal'), c.req.valid('param').id), 200),
  );

  app.openapi(enforce(api.getJobOutput), (c) => serveOutput(c, c.req.valid('param').id));
}
