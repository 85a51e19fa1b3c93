import { describe, expect } from 'vitest';
import { SAMPLE_RATE } from '../../models/tone-diffusion/conditioning.ts';
import { decodeWav } from '../../models/tone-diffusion/wav.ts';
import type { Job } from '../../shared/schemas/jobs.ts';
import { creditsOf, expectApiError, submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';

const rms = (samples: Float32Array): number =>
  Math.sqrt(samples.reduce((sum, s) => sum + s * s, 0) / samples.length);

describe('a tone-diffusion job', () => {
  let token: string;
  let accepted: Job;
  let job: Job;
  let wav: Uint8Array;

  it.beforeAll(async ({ api }) => {
    ({ token } = await api.signUp());
    accepted = await submitJob(api, token, 'tone-diffusion', {
      prompt: 'calm rain on a tin roof',
      seed: 7,
      duration: 2,
    });
    job = await api.waitForJob(token, accepted.id);
    const res = await api.call('GET', `/v1/jobs/${job.id}/output`, { token });
    wav = res.bytes;
  });

  it('is accepted as queued, charged, and ends succeeded with an output', async ({ api }) => {
    expect(accepted).toMatchObject({ status: 'queued', seq: 1, output: null, startedAt: null });
    expect(accepted.queuePosition).toBeGreaterThanOrEqual(1);
    expect(job).toMatchObject({
      model: 'tone-diffusion',
      status: 'succeeded',
      progress: 1,
      queuePosition: null,
      input: { prompt: 'calm rain on a tin roof', seed: 7, duration: 2 },
      cost: 1,
      error: null,
      output: { url: `/v1/jobs/${job.id}/output`, contentType: 'audio/wav' },
    });
    expect(job.id).toMatch(/^job_/);
    expect(Date.parse(job.finishedAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(job.startedAt ?? ''),
    );
    expect(Date.parse(job.startedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(job.createdAt));
    expect(await creditsOf(api, token)).toBe(19);
  });

  it('downloads as a valid, audible 16-bit mono WAV of the asked duration', async ({ api }) => {
    const res = await api.call('GET', `/v1/jobs/${job.id}/output`, { token });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    expect(res.headers.get('content-length')).toBe(String(res.bytes.length));
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('etag')).toMatch(/^"[^"]+"$/);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(res.bytes.length).toBe(job.output?.bytes);

    const decoded = decodeWav(res.bytes);
    expect(decoded).toMatchObject({ sampleRate: SAMPLE_RATE, channels: 1, bitsPerSample: 16 });
    expect(decoded.samples.length).toBe(2 * SAMPLE_RATE);
    expect(rms(decoded.samples)).toBeGreaterThan(0.01);
  });

  it('answers a byte range with 206 and exactly those bytes', async ({ api }) => {
    const res = await api.call('GET', `/v1/jobs/${job.id}/output`, {
      token,
      headers: { range: 'bytes=0-43' },
    });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 0-43/${wav.length}`);
    expect(res.headers.get('content-length')).toBe('44');
    expect(res.bytes).toEqual(wav.subarray(0, 44));
  });

  it('answers a suffix range and an open-ended range', async ({ api }) => {
    const suffix = await api.call('GET', `/v1/jobs/${job.id}/output`, {
      token,
      headers: { range: 'bytes=-100' },
    });
    expect(suffix.status).toBe(206);
    expect(suffix.headers.get('content-range')).toBe(
      `bytes ${wav.length - 100}-${wav.length - 1}/${wav.length}`,
    );
    expect(suffix.bytes).toEqual(wav.subarray(wav.length - 100));

    const open = await api.call('GET', `/v1/jobs/${job.id}/output`, {
      token,
      headers: { range: `bytes=${wav.length - 10}-` },
    });
    expect(open.status).toBe(206);
    expect(open.bytes).toEqual(wav.subarray(wav.length - 10));
  });

  it('answers an unsatisfiable range with a 416 JSON error that is not cached as the file', async ({
    api,
  }) => {
    const res = await api.call('GET', `/v1/jobs/${job.id}/output`, {
      token,
      headers: { range: `bytes=${wav.length}-` },
    });
    expectApiError(res, 416, 'range_not_satisfiable');
    expect(res.headers.get('content-range')).toBe(`bytes */${wav.length}`);
    expect(res.headers.get('cache-control') ?? '').not.toContain('immutable');
  });

  it('answers 304 to If-None-Match with the etag, and the whole file when If-Range differs', async ({
    api,
  }) => {
    const first = await api.call('GET', `/v1/jobs/${job.id}/output`, { token });
    const etag = first.headers.get('etag') ?? '';
    const cached = await api.call('GET', `/v1/jobs/${job.id}/output`, {
      token,
      headers: { 'if-none-match': etag },
    });
    expect(cached.status).toBe(304);
    expect(cached.bytes.length).toBe(0);
    expect(cached.headers.get('etag')).toBe(etag);

    const stale = await api.call('GET', `/v1/jobs/${job.id}/output`, {
      token,
      headers: { range: 'bytes=0-43', 'if-range': '"an-older-version"' },
    });
    expect(stale.status).toBe(200);
    expect(stale.bytes).toEqual(wav);
    const staleBeyond = await api.call('GET', `/v1/jobs/${job.id}/output`, {
      token,
      headers: { range: `bytes=${wav.length}-`, 'if-range': '"an-older-version"' },
    });
    expect(staleBeyond.status).toBe(200);
    expect(staleBeyond.bytes).toEqual(wav);
  });

  it('gives the same bytes for the same prompt and seed, and other bytes for another seed', async ({
    api,
  }) => {
    const input = { prompt: 'calm rain on a tin roof', seed: 7, duration: 2 };
    const [again, other] = await Promise.all([
      submitJob(api, token, 'tone-diffusion', input),
      submitJob(api, token, 'tone-diffusion', { ...input, seed: 8 }),
    ]);
    const download = async (id: string) => {
      const done = await api.waitForJob(token, id);
      expect(done.status).toBe('succeeded');
      return (await api.call('GET', `/v1/jobs/${id}/output`, { token })).bytes;
    };
    expect(await download(again.id)).toEqual(wav);
    expect(await download(other.id)).not.toEqual(wav);
  });
});

describe('job input', () => {
  it('is stored with the model defaults applied', async ({ api }) => {
    const { token } = await api.signUp();
    const accepted = await submitJob(api, token, 'tone-diffusion', { prompt: 'birdsong' });
    expect(accepted.input).toEqual({ prompt: 'birdsong', seed: 0, duration: 8 });
    expect(accepted.status).toBe('queued');
    expect(accepted.queuePosition).toBeGreaterThanOrEqual(1);

    const done = await api.waitForJob(token, accepted.id);
    expect(done.input).toEqual({ prompt: 'birdsong', seed: 0, duration: 8 });
    const res = await api.call('GET', `/v1/jobs/${accepted.id}/output`, { token });
    expect(decodeWav(res.bytes).samples.length).toBe(8 * SAMPLE_RATE);
  });
});

describe('progress', () => {
  it('is seen strictly between 0 and 1 while a job runs, and 1 once it succeeded', async ({
    api,
  }) => {
    const { token } = await api.signUp();
    const accepted = await submitJob(api, token, 'steps', { steps: 10, stepMs: 100 });
    const running = await api.waitForJob(
      token,
      accepted.id,
      (j) => j.status !== 'queued' && j.progress > 0,
    );
    expect(running.status).toBe('running');
    expect(running.progress).toBeGreaterThan(0);
    expect(running.progress).toBeLessThan(1);
    expect(running.startedAt).not.toBeNull();

    const done = await api.waitForJob(token, accepted.id);
    expect(done).toMatchObject({ status: 'succeeded', progress: 1 });
    expect(done.seq).toBeGreaterThan(running.seq);
  });
});

describe('listing', () => {
  it('pages newest first through every job exactly once, and filters by status', async ({
    api,
  }) => {
    const { token } = await api.signUp();
    const created: Job[] = [];
    for (let i = 0; i < 7; i++) {
      created.push(await submitJob(api, token, 'steps', { steps: 1, stepMs: 0, fail: i === 3 }));
    }
    for (const job of created) await api.waitForJob(token, job.id);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await api.call('GET', `/v1/jobs?${query}`, { token });
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.data.map((j: Job) => j.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(created.map((j) => j.id).reverse());

    const failed = await api.call('GET', '/v1/jobs?status=failed', { token });
    expect(failed.body.data.map((j: Job) => j.id)).toEqual([created[3]?.id]);
    expect(failed.body.nextCursor).toBeNull();
    const succeeded = await api.call('GET', '/v1/jobs?status=succeeded&limit=100', {
      token,
    });
    expect(succeeded.body.data).toHaveLength(6);
    expect(succeeded.body.data.every((j: Job) => j.status === 'succeeded')).toBe(true);
    const queued = await api.call('GET', '/v1/jobs?status=queued', { token });
    expect(queued.body).toEqual({ data: [], nextCursor: null });
  });
});

describe('models and health', () => {
  it('lists both models with their cost, input schema and output type', async ({ api }) => {
    const res = await api.call('GET', '/v1/models');
    expect(res.status).toBe(200);
    const byId = new Map(res.body.data.map((m: { id: string }) => [m.id, m]));
    expect(byId.get('tone-diffusion')).toMatchObject({
      version: expect.any(String),
      description: expect.any(String),
      cost: 1,
      ready: true,
      output: { contentType: 'audio/wav' },
      input: {
        type: 'object',
        required: ['prompt'],
        properties: { prompt: { type: 'string', maxLength: 500 }, duration: { default: 8 } },
      },
    });
    expect(byId.get('steps')).toMatchObject({
      cost: 1,
      ready: true,
      output: { contentType: 'text/plain' },
      input: { type: 'object', properties: { steps: { type: 'integer' } } },
    });
  });

  it('reports healthy with the models loaded on the cpu', async ({ api }) => {
    const res = await api.call('GET', '/v1/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'healthy',
      modelsLoaded: true,
      device: 'cpu',
      queueLength: expect.any(Number),
      activeJobs: expect.any(Number),
      version: expect.any(String),
    });
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });
});
