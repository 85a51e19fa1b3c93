/**
 * Uploaded files through a real origin: `POST /v1/files` takes WAV, MP3, FLAC and Ogg bytes
 * that parse as what they claim (else 400 `invalid_file`, 415 for another type, 413 past the
 * limit, 429 past a user's number of files); files are their owner's (another user gets
 * 404), expire with FILE_TTL (record and bytes), and a job's input names one by id: the
 * default model follows a reference clip's tempo, a file that is not the caller's or not a
 * WAV is refused at creation, and one deleted before its job ran fails it `file_gone`,
 * refunded.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { onsetsPerSecond } from '../../models/tone-diffusion/tempo.ts';
import { decodeWav } from '../../models/tone-diffusion/wav.ts';
import type { FileInfo } from '../../shared/schemas/files.ts';
import type { Job } from '../../shared/schemas/jobs.ts';
import { type Api, apiClient } from '../helpers/api.ts';
import { clickTrack, clickTrackMp3, flacHead, oggPage } from '../helpers/audio-fixtures.ts';
import { creditsOf, expectApiError, submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { holdableModelDir } from '../helpers/holdable-model.ts';

const maxBytes = 300_000;
it.override({
  originOptions: {
    env: {
      POOL_THREADS: '1',
      MODEL_DIR: holdableModelDir(),
      FILE_MAX_AUDIO_BYTES: String(maxBytes),
      FILE_MAX_PER_USER: '5',
    },
  },
});

const upload = (api: Api, token: string, type: string, bytes: Uint8Array, name?: string) =>
  api.call('POST', `/v1/files${name ? `?name=${encodeURIComponent(name)}` : ''}`, {
    token,
    body: bytes,
    headers: { 'content-type': type },
  });

/** The onsets a second of a job's WAV output, as the model's own detector hears them. */
async function tempoOf(api: Api, token: string, job: Job): Promise<number> {
  const ended = await api.waitForJob(token, job.id);
  expect(ended.status, JSON.stringify(ended)).toBe('succeeded');
  const res = await api.call('GET', `/v1/jobs/${job.id}/output`, { token });
  const wav = decodeWav(res.bytes);
  return onsetsPerSecond(wav.samples, wav.sampleRate, 1.5);
}

describe('POST /v1/files', () => {
  it('stores audio that is what it says, for its owner only', async ({ api }) => {
    const { token } = await api.signUp();
    const wav = clickTrack(2, 1);
    const made = await upload(api, token, 'audio/x-wav', wav, 'clicks.wav');
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      name: 'clicks.wav',
      contentType: 'audio/wav',
      bytes: wav.length,
    });
    expect(Date.parse(made.body.expiresAt) - Date.parse(made.body.createdAt)).toBe(7 * 86_400_000);
    for (const [type, bytes, stored] of [
      ['audio/mpeg', clickTrackMp3(2), 'audio/mpeg'],
      ['audio/flac', flacHead(), 'audio/flac'],
      ['audio/ogg', oggPage(new Uint8Array(40).fill(7)), 'audio/ogg'],
    ] as const) {
      const res = await upload(api, token, type, bytes);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body).toMatchObject({ contentType: stored, bytes: bytes.length, name: null });
    }
    const listed = await api.call<{ data: FileInfo[] }>('GET', '/v1/files', { token });
    expect(listed.body.data.map((f) => f.contentType)).toEqual([
      'audio/ogg',
      'audio/flac',
      'audio/mpeg',
      'audio/wav',
    ]);
    expect((await api.call('GET', `/v1/files/${made.body.id}`, { token })).body).toEqual(made.body);

    // Another user: the same answer as a file that does not exist.
    const other = await api.signUp();
    expectApiError(
      await api.call('GET', `/v1/files/${made.body.id}`, { token: other.token }),
      404,
      'not_found',
    );
    expectApiError(
      await api.call('DELETE', `/v1/files/${made.body.id}`, { token: other.token }),
      404,
      'not_found',
    );
    expect((await api.call('GET', '/v1/files', { token: other.token })).body.data).toEqual([]);

    expect((await api.call('DELETE', `/v1/files/${made.body.id}`, { token })).status).toBe(204);
    expectApiError(await api.call('GET', `/v1/files/${made.body.id}`, { token }), 404, 'not_found');
    expectApiError(
      await api.call('DELETE', `/v1/files/${made.body.id}`, { token }),
      404,
      'not_found',
    );
  });

  it('refuses what is not what it claims, another type, too large, and too many', async ({
    api,
  }) => {
    const { token } = await api.signUp();
    const notWav = await upload(
      api,
      token,
      'audio/wav',
      new TextEncoder().encode('just some text, not audio'),
    );
    expectApiError(notWav, 400, 'invalid_file');
    expect(notWav.body.error.message).toMatch(/not the WAV it says: not a RIFF\/WAVE file/);
    expectApiError(await upload(api, token, 'audio/mpeg', clickTrack(2, 1)), 400, 'invalid_file');
    expectApiError(await upload(api, token, 'audio/flac', clickTrack(2, 1)), 400, 'invalid_file');
    const corrupt = await upload(api, token, 'audio/ogg', oggPage(new Uint8Array(40), true));
    expectApiError(corrupt, 400, 'invalid_file');
    expect(corrupt.body.error.message).toMatch(/fails its checksum/);
    expectApiError(
      await upload(api, token, 'image/png', clickTrack(2, 1)),
      415,
      'unsupported_media_type',
    );
    expectApiError(
      await upload(api, token, 'audio/wav', clickTrack(2, 8)),
      413,
      'payload_too_large',
    );
    // Nothing refused was kept.
    expect((await api.call('GET', '/v1/files', { token })).body.data).toEqual([]);

    for (let i = 0; i < 5; i++) {
      expect((await upload(api, token, 'audio/wav', clickTrack(2, 1))).status).toBe(201);
    }
    const sixth = await upload(api, token, 'audio/wav', clickTrack(2, 1));
    expectApiError(sixth, 429, 'too_many_files');
    expect((await api.call('GET', '/v1/files', { token })).body.data).toHaveLength(5);
  });

  it('expires a file with FILE_TTL: gone for its owner, its bytes removed', async ({ origins }) => {
    const origin = await origins.start({ env: { FILE_TTL: '2s', RETENTION_SWEEP_MS: '1000' } });
    const api = apiClient(origin.url);
    const { token } = await api.signUp();
    const made = await upload(api, token, 'audio/wav', clickTrack(2, 1));
    expect(made.status).toBe(201);
    const outputs = join(origin.dataDir, 'outputs');
    const stored = () => readdirSync(outputs).filter((f) => f.startsWith(made.body.id));
    expect(stored()).toHaveLength(1);
    await sleep(2_100);
    expectApiError(await api.call('GET', `/v1/files/${made.body.id}`, { token }), 404, 'not_found');
    expect((await api.call('GET', '/v1/files', { token })).body.data).toEqual([]);
    for (let i = 0; i < 60 && stored().length > 0; i++) await sleep(100);
    expect(existsSync(outputs) && stored()).toEqual([]);
  });
});

describe('a job that takes a file', () => {
  it('follows a reference clip: faster clicks, faster notes', async ({ api }) => {
    const { token } = await api.signUp();
    const input = { prompt: 'rain on a tin roof', seed: 1, duration: 8 };
    const fast = await upload(api, token, 'audio/wav', clickTrack(4));
    const slow = await upload(api, token, 'audio/wav', clickTrack(1));
    const jobs = {
      none: await submitJob(api, token, 'tone-diffusion', input),
      fast: await submitJob(api, token, 'tone-diffusion', { ...input, reference: fast.body.id }),
      slow: await submitJob(api, token, 'tone-diffusion', { ...input, reference: slow.body.id }),
    };
    // The job keeps the file's id, not its bytes.
    expect(jobs.fast.input.reference).toBe(fast.body.id);
    const none = await tempoOf(api, token, jobs.none);
    const faster = await tempoOf(api, token, jobs.fast);
    const slower = await tempoOf(api, token, jobs.slow);
    expect(faster).toBeGreaterThan(1.3 * none);
    expect(slower).toBeLessThan(0.75 * none);
  });

  it("refuses another user's file, a file of a type the field does not take, and no file", async ({
    api,
  }) => {
    const owner = await api.signUp();
    const theirs = await upload(api, owner.token, 'audio/wav', clickTrack(2, 1));
    const { token } = await api.signUp();
    const mp3 = await upload(api, token, 'audio/mpeg', clickTrackMp3(2));
    const before = await creditsOf(api, token);
    const post = (reference: string) =>
      api.call('POST', '/v1/jobs', {
        token,
        body: { model: 'tone-diffusion', input: { prompt: 'x', reference } },
      });
    for (const [reference, message] of [
      [theirs.body.id, /no such file/],
      [mp3.body.id, /audio\/mpeg is not audio\/wav/],
      ['file_01M8000000000000000000000Z', /no such file/],
    ] as const) {
      const res = await post(reference);
      expectApiError(res, 400, 'invalid_request');
      expect(res.body.error.details).toEqual([
        { path: 'input.reference', message: expect.stringMatching(message) },
      ]);
    }
    const malformed = await post('not-a-file-id');
    expectApiError(malformed, 400, 'invalid_request');
    expect(JSON.stringify(malformed.body.error.details)).toContain('input.reference');
    expect(await creditsOf(api, token)).toBe(before);
  });

  it('fails file_gone, refunded, when its file was deleted before it ran', async ({ api }) => {
    // Another user's job holds tone-diffusion's one thread (`holdMs`), so this one waits.
    const other = await api.signUp();
    const blocker = await submitJob(api, other.token, 'tone-diffusion', {
      prompt: 'held',
      holdMs: 600_000,
    });
    await api.waitForJob(other.token, blocker.id, (j) => j.status === 'running');
    const { token } = await api.signUp();
    const file = await upload(api, token, 'audio/wav', clickTrack(2, 1));
    const job = await submitJob(api, token, 'tone-diffusion', {
      prompt: 'soon gone',
      reference: file.body.id,
    });
    expect(await creditsOf(api, token)).toBe(19);
    expect((await api.call('DELETE', `/v1/files/${file.body.id}`, { token })).status).toBe(204);
    await api.call('POST', `/v1/jobs/${blocker.id}/cancel`, { token: other.token });
    const ended = await api.waitForJob(token, job.id);
    expect(ended).toMatchObject({ status: 'failed', error: { code: 'file_gone' }, output: null });
    expect(await creditsOf(api, token)).toBe(20);
  });
});
