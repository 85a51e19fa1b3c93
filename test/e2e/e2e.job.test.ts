/**
 * One job from end to end through the real edge (workerd) and the real origin: register,
 * submit, watch it over a WebSocket that passes through the edge, download the audio.
 */
import { describe, expect } from 'vitest';
import { decodeWav } from '../../models/tone-diffusion/wav.ts';
import type { Job } from '../../shared/schemas/jobs.ts';
import { submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { openSocket, streamProblems } from '../helpers/ws-client.ts';

describe('a tone-diffusion job through the edge', () => {
  it('is submitted, followed live over the WebSocket, and downloaded', async ({ pair }) => {
    const { api } = pair;
    const { token } = await api.signUp();
    const socket = await openSocket(pair.edge.url, { token });

    const duration = 2;
    const job = await submitJob(api, token, 'tone-diffusion', {
      prompt: 'a slow e2e melody in the rain',
      seed: 42,
      duration,
    });
    expect(job.status).toBe('queued');
    const subscribed = await socket.subscribe(job.id, 0);
    expect(subscribed.type).toBe('subscribed');

    const events = await socket.untilTerminal(job.id, 25_000);
    expect(streamProblems(events)).toEqual([]);
    expect(events.map((e) => e.event)).toContain('progress');
    expect(events.at(0)?.event).toBe('queued');
    expect(events.at(-1)?.event).toBe('succeeded');
    const done = events.at(-1)?.job as Job;
    expect(done.output?.contentType).toBe('audio/wav');
    const progress = events.filter((e) => e.event === 'progress').map((e) => e.job.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));

    // The same job over HTTP through the edge agrees.
    const read = await api.call<Job>('GET', `/v1/jobs/${job.id}`, { token });
    expect(read.status).toBe(200);
    expect(read.body.status).toBe('succeeded');
    expect(read.body.seq).toBe(done.seq);

    const url = done.output?.url as string;
    const file = await api.call('GET', url, { token });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('audio/wav');
    expect(Number(file.headers.get('content-length'))).toBe(file.bytes.length);
    expect(file.bytes.length).toBe(done.output?.bytes);
    const wav = decodeWav(file.bytes);
    expect(wav.channels).toBe(1);
    expect(wav.samples.length / wav.channels / wav.sampleRate).toBeCloseTo(duration, 1);
    expect(wav.samples.some((s) => Math.abs(s) > 0.01)).toBe(true);

    // A range of it, as a player asks for it.
    const part = await api.call('GET', url, { token, headers: { range: 'bytes=0-43' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 0-43/${file.bytes.length}`);
    expect(part.bytes).toEqual(file.bytes.slice(0, 44));
    const tail = await api.call('GET', url, { token, headers: { range: 'bytes=-100' } });
    expect(tail.status).toBe(206);
    expect(tail.bytes).toEqual(file.bytes.slice(-100));
  });

  it('downloads a 1 s clip, kept in the database (under 64 KiB), through the edge with ranges and 304', async ({
    pair,
  }) => {
    const { api } = pair;
    const { token } = await api.signUp();
    const job = await submitJob(api, token, 'tone-diffusion', { prompt: 'short', duration: 1 });
    const done = await api.waitForJob(token, job.id, undefined, 25_000);
    expect(done.output?.bytes).toBeLessThanOrEqual(64 * 1024);
    const url = done.output?.url as string;
    const file = await api.call('GET', url, { token });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('audio/wav');
    expect(file.bytes.length).toBe(done.output?.bytes);
    expect(decodeWav(file.bytes).sampleRate).toBe(22_050);
    const part = await api.call('GET', url, { token, headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.bytes).toEqual(file.bytes.slice(100, 200));
    const etag = file.headers.get('etag') ?? '';
    const again = await api.call('GET', url, { token, headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it("keeps a user's output from another user, through the edge too", async ({ pair }) => {
    const { api } = pair;
    const owner = await api.signUp();
    const other = await api.signUp();
    const job = await submitJob(api, owner.token, 'tone-diffusion', {
      prompt: 'mine',
      duration: 1,
    });
    await api.waitForJob(owner.token, job.id);
    const res = await api.call('GET', `/v1/jobs/${job.id}/output`, { token: other.token });
    expect(res.status).toBe(404);
  });
});
