/**
 * Outputs in the edge's R2 bucket (`OUTPUT_STORE=edge`), through real `wrangler dev`: the
 * origin hands the bytes to the edge over its signed internal route, the job succeeds once
 * R2 holds them, and the edge serves the download from R2 (whole, ranges, 304), after
 * asking the origin whose it is. The origin never answers the bytes; retention deletes the
 * object. A client cannot write or delete outputs.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { decodeWav } from '../../models/tone-diffusion/wav.ts';
import { signEdgeRequest } from '../../shared/edge-signature.ts';
import { signOriginRequest } from '../../shared/origin-signature.ts';
import { readOutputLocation } from '../../shared/output-location.ts';
import type { Job } from '../../shared/schemas/jobs.ts';
import { clickTrack } from '../helpers/audio-fixtures.ts';
import { expectApiError, submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { readAnswer } from '../helpers/http.ts';

it.override({
  pairOptions: {
    outputsAtEdge: true,
    // Every output to the bucket: a 1 s clip (44 KB) would be kept in the database otherwise.
    originEnv: { OUTPUT_TTL: '6s', RETENTION_SWEEP_MS: '1000', INLINE_OUTPUT_MAX_BYTES: '0' },
  },
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('uploaded files in the edge bucket', () => {
  it('are kept there, read back by the origin for the job that takes one, and removed on delete', async ({
    pair,
  }) => {
    const { api } = pair;
    const { token } = await api.signUp();
    const clip = clickTrack(4);
    const made = await api.call('POST', '/v1/files?name=clicks.wav', {
      token,
      body: clip,
      headers: { 'content-type': 'audio/wav' },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    // The bucket holds the bytes (asked on the origins' own signed route).
    const key = `${made.body.id}.wav`;
    const path = `/internal/outputs/${key}`;
    const head = await fetch(`${pair.edge.url}${path}`, {
      headers: await signOriginRequest(pair.secret, { method: 'GET', path }),
    });
    expect(await head.json()).toMatchObject({ key, size: clip.length });
    const job = await submitJob(api, token, 'tone-diffusion', {
      prompt: 'follow the bucket',
      duration: 2,
      reference: made.body.id,
    });
    expect((await api.waitForJob(token, job.id, undefined, 25_000)).status).toBe('succeeded');
    expect((await api.call('DELETE', `/v1/files/${made.body.id}`, { token })).status).toBe(204);
    const gone = await fetch(`${pair.edge.url}${path}`, {
      headers: await signOriginRequest(pair.secret, { method: 'GET', path }),
    });
    expect(gone.status).toBe(404);
    await gone.body?.cancel();
  });
});

describe('outputs in the edge bucket', () => {
  it('are stored at the edge before the job succeeds, and downloaded from there', async ({
    pair,
  }) => {
    const { api } = pair;
    const { token } = await api.signUp();
    const job = await submitJob(api, token, 'tone-diffusion', {
      prompt: 'an output kept at the edge',
      seed: 3,
      duration: 1,
    });
    const done = await api.waitForJob(token, job.id, undefined, 25_000);
    expect(done.status).toBe('succeeded');
    const url = done.output?.url as string;

    const file = await api.call('GET', url, { token });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('audio/wav');
    expect(Number(file.headers.get('content-length'))).toBe(done.output?.bytes);
    expect(file.headers.get('accept-ranges')).toBe('bytes');
    const etag = file.headers.get('etag');
    // The worker's SHA-256 of the bytes it made, as the origin recorded it.
    expect(etag).toBe(`"${sha256(file.bytes)}"`);
    expect(decodeWav(file.bytes).sampleRate).toBe(22_050);

    const part = await api.call('GET', url, { token, headers: { range: 'bytes=10-109' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-109/${file.bytes.length}`);
    expect(part.headers.get('content-length')).toBe('100');
    expect(part.bytes).toEqual(file.bytes.slice(10, 110));
    const tail = await api.call('GET', url, { token, headers: { range: 'bytes=-64' } });
    expect(tail.bytes).toEqual(file.bytes.slice(-64));
    const stale = await api.call('GET', url, {
      token,
      headers: { range: 'bytes=0-9', 'if-range': '"not-the-etag"' },
    });
    expect(stale.status).toBe(200);
    expect(stale.bytes.length).toBe(file.bytes.length);
    const beyond = await api.call('GET', url, { token, headers: { range: 'bytes=999999999-' } });
    expectApiError(beyond, 416, 'range_not_satisfiable');
    expect(beyond.headers.get('content-range')).toBe(`bytes */${file.bytes.length}`);
    const cached = await api.call('GET', url, { token, headers: { 'if-none-match': etag ?? '' } });
    expect(cached.status).toBe(304);
    // A HEAD answers the download's headers from the bucket, without its bytes.
    const head = await api.call('HEAD', url, { token });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(file.bytes.length));
    expect(head.headers.get('etag')).toBe(etag);
    expect(head.headers.get('content-type')).toBe('audio/wav');
    expect(head.bytes.length).toBe(0);

    // Another user: the origin says no, the edge serves nothing.
    const stranger = await api.signUp();
    expectApiError(await api.call('GET', url, { token: stranger.token }), 404, 'not_found');

    // The origin itself never answers the bytes: asked as the edge asks, it says where.
    const signed = await signEdgeRequest(pair.secret, {
      method: 'GET',
      pathWithQuery: url,
      body: undefined,
      clientIp: '127.0.0.1',
      requestId: crypto.randomUUID(),
      headers: { authorization: `Bearer ${token}` },
    });
    const direct = await pair.direct.call('GET', url, { token, headers: signed });
    expect(direct.status).toBe(200);
    expect(direct.text).toBe('');
    expect(readOutputLocation(direct.headers)).toMatchObject({
      key: `${job.id}.1.wav`,
      etag,
      bytes: file.bytes.length,
    });
  });

  it('refuses writes and deletes that no origin signed', async ({ pair }) => {
    const key = 'job_01ABCDEFGHJKMNPQRSTVWXYZ0.wav';
    const path = `/internal/outputs/${key}`;
    const body = new TextEncoder().encode('not an output');
    const bare = await fetch(`${pair.edge.url}${path}`, { method: 'PUT', body });
    expect(bare.status).toBe(401);
    const wrong = await signOriginRequest('a-secret-that-is-not-the-origins-one', {
      method: 'PUT',
      path,
      sha256: sha256(body),
      length: body.byteLength,
    });
    const forged = await fetch(`${pair.edge.url}${path}`, { method: 'PUT', body, headers: wrong });
    expect(forged.status).toBe(401);
    // Signed, but the bytes are not the ones declared: R2 refuses to store them.
    const signed = await signOriginRequest(pair.secret, {
      method: 'PUT',
      path,
      sha256: sha256(new TextEncoder().encode('other bytes')),
      length: body.byteLength,
    });
    const tampered = await fetch(`${pair.edge.url}${path}`, {
      method: 'PUT',
      body,
      headers: signed,
    });
    expectApiError(await readAnswer(tampered), 400, 'invalid_request');
    const head = await signOriginRequest(pair.secret, { method: 'HEAD', path });
    expect((await fetch(`${pair.edge.url}${path}`, { method: 'HEAD', headers: head })).status).toBe(
      404,
    );
    const unsignedDelete = await fetch(`${pair.edge.url}${path}`, { method: 'DELETE' });
    expect(unsignedDelete.status).toBe(401);
  });

  it('deletes the object from the bucket when retention expires the output', async ({ pair }) => {
    const { api } = pair;
    const { token } = await api.signUp();
    const job = await submitJob(api, token, 'tone-diffusion', {
      prompt: 'short lived',
      duration: 1,
    });
    const done = await api.waitForJob(token, job.id, undefined, 25_000);
    const url = done.output?.url as string;
    expect((await api.call('GET', url, { token })).status).toBe(200);
    const key = `${job.id}.1.wav`;
    const path = `/internal/outputs/${key}`;
    const exists = async () => {
      const headers = await signOriginRequest(pair.secret, { method: 'GET', path });
      return (await fetch(`${pair.edge.url}${path}`, { headers })).status;
    };
    expect(await exists()).toBe(200);
    const deadline = Date.now() + 20_000;
    while (
      (await api.call<Job>('GET', `/v1/jobs/${job.id}`, { token })).body.outputExpired !== true
    ) {
      expect(Date.now()).toBeLessThan(deadline);
      await sleep(250);
    }
    expectApiError(await api.call('GET', url, { token }), 410, 'gone');
    expect(await exists()).toBe(404);
  });
});
