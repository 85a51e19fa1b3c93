/**
 * Small outputs kept in the database (`INLINE_OUTPUT_MAX_BYTES`, 64 KiB by default): a real
 * origin on the `steps` fixture, whose output is a line of text. What a client sees is the
 * same as for a file: the bytes, their validators and ranges, the output surviving a
 * SIGKILL right after `succeeded`, and retention's 410.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { describe, expect } from 'vitest';
import type { Job } from '../../shared/schemas/jobs.ts';
import { apiClient } from '../helpers/api.ts';
import { expectApiError, submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { fixtureModels } from '../helpers/paths.ts';

const env = { MODEL_DIR: fixtureModels, POOL_THREADS: '1' };
const outputsIn = (dataDir: string) =>
  existsSync(join(dataDir, 'outputs')) ? readdirSync(join(dataDir, 'outputs')) : [];

describe('a small output kept with its job', () => {
  it('downloads as a file does (validators, ranges, 304) and no file is written', async ({
    origins,
  }) => {
    const origin = await origins.start({ env });
    const api = apiClient(origin.url);
    const { token } = await api.signUp();
    const job = await api.waitForJob(
      token,
      (await submitJob(api, token, 'steps', { steps: 2, stepMs: 0 })).id,
    );
    expect(job.output).toMatchObject({ contentType: 'text/plain', bytes: 13 });
    const whole = await api.call('GET', `/v1/jobs/${job.id}/output`, { token });
    expect(whole.status).toBe(200);
    expect(whole.text).toBe('done 2 steps\n');
    expect(whole.headers.get('content-length')).toBe('13');
    expect(whole.headers.get('content-type')).toBe('text/plain');
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    const etag = whole.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);

    const part = await api.call('GET', `/v1/jobs/${job.id}/output`, {
      token,
      headers: { range: 'bytes=5-6' },
    });
    expect(part.status).toBe(206);
    expect(part.text).toBe('2 ');
    expect(part.headers.get('content-range')).toBe('bytes 5-6/13');
    const again = await api.call('GET', `/v1/jobs/${job.id}/output`, {
      token,
      headers: { 'if-none-match': etag },
    });
    expect(again.status).toBe(304);
    expect(outputsIn(origin.dataDir).filter((f) => f.includes(job.id))).toEqual([]);
  });

  it('is readable after the origin is SIGKILLed right after the job succeeded', async ({
    origins,
  }) => {
    const dataDir = origins.dataDir();
    const first = await origins.start({ env, dataDir });
    const api = apiClient(first.url);
    const { token } = await api.signUp();
    const job = await api.waitForJob(
      token,
      (await submitJob(api, token, 'steps', { steps: 3, stepMs: 0 })).id,
    );
    expect(job.status).toBe('succeeded');
    await first.kill('SIGKILL');
    const second = apiClient((await origins.start({ env, dataDir })).url);
    const output = await second.call('GET', `/v1/jobs/${job.id}/output`, { token });
    expect(output.status).toBe(200);
    expect(output.text).toBe('done 3 steps\n');
  });

  it('goes with the retention policy: the job says outputExpired and the download is 410', async ({
    origins,
  }) => {
    const origin = await origins.start({
      env: { ...env, OUTPUT_TTL: '1s', RETENTION_SWEEP_MS: '1000' },
    });
    const api = apiClient(origin.url);
    const { token } = await api.signUp();
    const done = await api.waitForJob(
      token,
      (await submitJob(api, token, 'steps', { steps: 1, stepMs: 0 })).id,
    );
    expect(done.outputExpired).toBe(false);
    const deadline = Date.now() + 15_000;
    let job: Job = done;
    while (!job.outputExpired) {
      if (Date.now() > deadline) throw new Error(`never expired: ${JSON.stringify(job)}`);
      await sleep(100);
      job = (await api.call<Job>('GET', `/v1/jobs/${done.id}`, { token })).body;
    }
    expect(job).toEqual({ ...done, output: null, outputExpired: true });
    expectApiError(await api.call('GET', `/v1/jobs/${done.id}/output`, { token }), 410, 'gone');
    // The bytes went too, not only the job's word for it.
    const db = new Database(join(origin.dataDir, 'overture.sqlite'), { readonly: true });
    try {
      expect(
        db.prepare('select count(*) as n from job_outputs where job_id = ?').get(done.id),
      ).toEqual({
        n: 0,
      });
    } finally {
      db.close();
    }
  });
});
