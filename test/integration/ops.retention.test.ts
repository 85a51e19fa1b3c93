/**
 * Output retention on a real origin: a short OUTPUT_TTL and a sweep every second remove a
 * succeeded job's file; the job keeps its record and its ledger rows, and says why the
 * output is gone.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import type { Job } from '../../shared/schemas/jobs.ts';
import { creditsOf, expectApiError, submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { logLines } from '../helpers/logs.ts';
import { fixtureModels } from '../helpers/paths.ts';

it.override({
  originOptions: {
    env: {
      MODEL_DIR: fixtureModels,
      POOL_THREADS: '1',
      // Long enough to download the file right after the job ends, short enough to wait out.
      OUTPUT_TTL: '2s',
      // Files, not the database: this test follows the file (outputs.inline.test.ts the other case).
      INLINE_OUTPUT_MAX_BYTES: '0',
      RETENTION_SWEEP_MS: '1000',
    },
  },
});

describe('output retention', () => {
  it('removes the file after the TTL; the job says outputExpired and the download is 410 gone', async ({
    api,
    origin,
  }) => {
    const user = await api.signUp();
    const submitted = await submitJob(api, user.token, 'steps', { steps: 1, stepMs: 0 });
    const done = await api.waitForJob(user.token, submitted.id);
    expect(done).toMatchObject({ status: 'succeeded', outputExpired: false });
    expect(done.output).not.toBeNull();
    const download = await api.call('GET', `/v1/jobs/${done.id}/output`, { token: user.token });
    expect(download.status).toBe(200);
    expect(download.text).toBe('done 1 steps\n');
    const file = join(origin.dataDir, 'outputs', `${done.id}.1.txt`);
    expect(existsSync(file)).toBe(true);
    const ledger = await api.call('GET', '/v1/billing/ledger', { token: user.token });

    const deadline = Date.now() + 15_000;
    let expired: Job | undefined;
    while (!expired) {
      const job = (await api.call<Job>('GET', `/v1/jobs/${done.id}`, { token: user.token })).body;
      if (job.outputExpired) expired = job;
      else if (Date.now() > deadline) throw new Error(`never expired: ${JSON.stringify(job)}`);
      else await sleep(100);
    }

    expect(existsSync(file)).toBe(false);
    expect(readdirSync(join(origin.dataDir, 'outputs')).filter((f) => f.includes(done.id))).toEqual(
      [],
    );
    // The record is the same job, minus its output.
    expect(expired).toEqual({ ...done, output: null, outputExpired: true });
    const gone = await api.call('GET', `/v1/jobs/${done.id}/output`, { token: user.token });
    expectApiError(gone, 410, 'gone');
    const ranged = await api.call('GET', `/v1/jobs/${done.id}/output`, {
      token: user.token,
      headers: { range: 'bytes=0-3' },
    });
    expectApiError(ranged, 410, 'gone');

    // Money is untouched: no refund for an expired output.
    const after = await api.call('GET', '/v1/billing/ledger', { token: user.token });
    expect(after.body).toEqual(ledger.body);
    expect(await creditsOf(api, user.token)).toBe(19);
    expect(logLines(origin.output()).some((l) => l.msg === 'expired outputs')).toBe(true);
  });
});
