/**
 * Output formats through a real origin: a tone-diffusion job that asks for `mp3` gets an MP3
 * (every frame parses, as long as asked, `audio/mpeg`, its size in the job), encoded in the
 * worker thread from the model's WAV; a format the model does not offer, or one that does not
 * exist, is a 400 naming `format`, and nothing is charged.
 */
import { describe, expect } from 'vitest';
import type { Job } from '../../shared/schemas/jobs.ts';
import type { ModelList } from '../../shared/schemas/models.ts';
import { creditsOf, expectApiError, submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { mp3Frames } from '../helpers/mp3-frames.ts';

describe('output formats', () => {
  it('lists the formats each model offers', async ({ api }) => {
    const models = await api.call<ModelList>('GET', '/v1/models');
    const formats = Object.fromEntries(models.body.data.map((m) => [m.id, m.output.formats]));
    expect(formats).toEqual({ 'tone-diffusion': ['wav', 'mp3'], steps: [] });
  });

  it('makes an MP3 when asked: audio/mpeg, every frame parsing, as long as asked', async ({
    api,
  }) => {
    const { token } = await api.signUp();
    const input = { prompt: 'a song to carry around', seed: 3, duration: 4 };
    const asked = await api.call<Job>('POST', '/v1/jobs', {
      token,
      body: { model: 'tone-diffusion', input, format: 'mp3' },
    });
    expect(asked.status).toBe(202);
    const mp3Job = asked.body;
    expect(mp3Job.format).toBe('mp3');
    const wavJob = await submitJob(api, token, 'tone-diffusion', input);
    expect(wavJob.format).toBe('wav');
    const mp3 = await api.waitForJob(token, mp3Job.id);
    const wav = await api.waitForJob(token, wavJob.id);
    expect(mp3).toMatchObject({
      status: 'succeeded',
      format: 'mp3',
      output: { contentType: 'audio/mpeg' },
    });
    expect(wav).toMatchObject({ status: 'succeeded', output: { contentType: 'audio/wav' } });
    const download = await api.call('GET', `/v1/jobs/${mp3Job.id}/output`, { token });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('audio/mpeg');
    expect(download.bytes.length).toBe(mp3.output?.bytes);
    const frames = mp3Frames(download.bytes);
    expect(frames).toMatchObject({ sampleRate: 22_050, kbps: 48, channels: 1 });
    expect(frames.seconds).toBeGreaterThanOrEqual(4);
    expect(frames.seconds).toBeLessThan(4.2);
    // The same music, a fraction of the size of its WAV.
    expect(mp3.output?.bytes ?? 0).toBeLessThan((wav.output?.bytes ?? 0) / 4);
  });

  it('takes a retry that spells the default format as the same request; another format is a conflict', async ({
    api,
  }) => {
    const { token } = await api.signUp();
    const key = { 'idempotency-key': `format-${Date.now()}` };
    const body = { model: 'tone-diffusion', input: { prompt: 'once', duration: 1 } };
    const first = await api.call<Job>('POST', '/v1/jobs', { token, body, headers: key });
    expect(first.status).toBe(202);
    const spelled = await api.call<Job>('POST', '/v1/jobs', {
      token,
      body: { ...body, format: 'wav' },
      headers: key,
    });
    expect(spelled.status).toBe(200);
    expect(spelled.body.id).toBe(first.body.id);
    const other = await api.call('POST', '/v1/jobs', {
      token,
      body: { ...body, format: 'mp3' },
      headers: key,
    });
    expectApiError(other, 409, 'conflict');
    expect(await creditsOf(api, token)).toBe(19);
  });

  it('refuses a format the model does not offer, or none that exists, charging nothing', async ({
    api,
  }) => {
    const { token } = await api.signUp();
    const before = await creditsOf(api, token);
    const steps = await api.call<Job>('POST', '/v1/jobs', {
      token,
      body: { model: 'steps', input: {}, format: 'mp3' },
    });
    expectApiError(steps, 400, 'invalid_request');
    expect(steps.body).toMatchObject({
      error: { details: [{ path: 'format', message: expect.stringMatching(/no choice/) }] },
    });
    const flac = await api.call<Job>('POST', '/v1/jobs', {
      token,
      body: { model: 'tone-diffusion', input: { prompt: 'x' }, format: 'ogg' },
    });
    expectApiError(flac, 400, 'invalid_request');
    expect(JSON.stringify(flac.body)).toContain('format');
    expect(await creditsOf(api, token)).toBe(before);
  });
});
