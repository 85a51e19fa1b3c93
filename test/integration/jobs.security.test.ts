import { describe, expect } from 'vitest';
import type { ErrorBody } from '../../shared/errors.ts';
import type { Job } from '../../shared/schemas/jobs.ts';
import type { ApiAnswer } from '../helpers/api.ts';
import { creditsOf, expectApiError, submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';

/** A well-formed job id that no job has. */
const missingId = 'job_01M8000000000000000000000Z';

/** The parts of an error answer that must not tell a stranger's job from a missing one. */
const comparable = (res: ApiAnswer) => {
  const { error } = res.body as ErrorBody;
  return { status: res.status, code: error.code, message: error.message };
};

describe("another user's job", () => {
  let owner: { token: string };
  let stranger: { token: string };
  let done: Job;
  let open: Job;

  it.beforeAll(async ({ api }) => {
    [owner, stranger] = await Promise.all([api.signUp(), api.signUp()]);
    const accepted = await submitJob(api, owner.token, 'steps', { steps: 1, stepMs: 0 });
    done = await api.waitForJob(owner.token, accepted.id);
    open = await submitJob(api, owner.token, 'steps', { steps: 200, stepMs: 50 });
  });

  const routes = (id: string) =>
    [
      ['GET', `/v1/jobs/${id}`],
      ['POST', `/v1/jobs/${id}/cancel`],
      ['GET', `/v1/jobs/${id}/output`],
    ] as const;

  it('is answered 404 on every route, exactly as a job that does not exist', async ({ api }) => {
    const probe = (id: string) =>
      Promise.all(
        routes(id).map(([method, path]) => api.call(method, path, { token: stranger.token })),
      );
    const missing = await probe(missingId);
    for (const job of [done, open]) {
      const theirs = await probe(job.id);
      for (const res of theirs) expectApiError(res, 404, 'not_found');
      expect(theirs.map(comparable)).toEqual(missing.map(comparable));
    }
  });

  it('is untouched by those attempts: not canceled, not refunded, still the owner’s', async ({
    api,
  }) => {
    const now = await api.call<Job>('GET', `/v1/jobs/${open.id}`, { token: owner.token });
    expect(['queued', 'running']).toContain(now.body.status);
    const output = await api.call('GET', `/v1/jobs/${done.id}/output`, {
      token: owner.token,
    });
    expect(output.status).toBe(200);
    expect(await creditsOf(api, owner.token)).toBe(18);
    expect(await creditsOf(api, stranger.token)).toBe(20);

    const canceled = await api.call<Job>('POST', `/v1/jobs/${open.id}/cancel`, {
      token: owner.token,
    });
    expect(canceled.body.status).toBe('canceled');
    expect(await creditsOf(api, owner.token)).toBe(19);
  });

  it('never shows in the stranger’s listing, whatever the filter', async ({ api }) => {
    await submitJob(api, stranger.token, 'steps', { steps: 1, stepMs: 0 });
    for (const query of [
      '',
      '?status=succeeded',
      '?status=queued',
      '?status=running',
      '?limit=100',
    ]) {
      const res = await api.call('GET', `/v1/jobs${query}`, { token: stranger.token });
      expect(res.status).toBe(200);
      const ids = res.body.data.map((j: Job) => j.id);
      expect(ids, query).not.toContain(done.id);
      expect(ids, query).not.toContain(open.id);
    }
    // Paging from the owner's job id reveals nothing of the owner either.
    const paged = await api.call('GET', `/v1/jobs?cursor=${open.id}`, {
      token: stranger.token,
    });
    expect(paged.body.data.map((j: Job) => j.id)).not.toContain(done.id);
  });

  it('cannot be reached with the stranger’s API key either', async ({ api }) => {
    const key = await api.call('POST', '/v1/api-keys', {
      token: stranger.token,
      body: { name: 'probe' },
    });
    for (const [method, path] of routes(done.id)) {
      expectApiError(await api.call(method, path, { token: key.body.key }), 404, 'not_found');
    }
  });
});

describe('requests without a valid token', () => {
  const jobRoutes = [
    ['POST', '/v1/jobs'],
    ['GET', '/v1/jobs'],
    ['GET', `/v1/jobs/${missingId}`],
    ['POST', `/v1/jobs/${missingId}/cancel`],
    ['GET', `/v1/jobs/${missingId}/output`],
    ['GET', '/v1/jobs/not-an-id'],
    ['GET', '/v1/me'],
    ['GET', '/v1/api-keys'],
    ['POST', '/v1/api-keys'],
    ['DELETE', '/v1/api-keys/key_01M8000000000000000000000Z'],
  ] as const;

  it.for(jobRoutes)('are refused with 401 on %s %s', async ([method, path], { api }) => {
    const body = method === 'POST' ? { model: 'steps', input: {} } : undefined;
    const cases: Record<string, Record<string, string>> = {
      'no header': {},
      'bad token': { authorization: 'Bearer not-a-token' },
      'unknown api key': { authorization: `Bearer ovt_${'A'.repeat(43)}` },
      'wrong scheme': { authorization: 'Basic dXNlcjpwYXNz' },
    };
    for (const [what, headers] of Object.entries(cases)) {
      const res = await api.call(method, path, { body, headers });
      expect(res.status, what).toBe(401);
      expectApiError(res, 401, 'unauthorized');
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
  });
});
