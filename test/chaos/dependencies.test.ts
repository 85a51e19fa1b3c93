/**
 * Chaos: what the edge answers when what it depends on fails, on one real edge and origin.
 * Models that throw or answer garbage fail their jobs with a clear code, refunded once; an
 * origin frozen (SIGSTOP) is a bounded 504 `gateway_timeout`, and recovers on SIGCONT; an
 * origin gone is a 502 `bad_gateway`; meanwhile the edge's health says 503 `starting`, the
 * origin unreachable; an origin whose disk is "full" refuses new jobs with a 503 `disk_full`.
 * Every one of them a JSON answer, never a hang or an HTML page.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import WebSocket from 'ws';
import type { Job } from '../../shared/schemas/jobs.ts';
import type { ApiAnswer } from '../helpers/api.ts';
import type { EdgePair } from '../helpers/edge-pair.ts';
import { creditsOf, expectApiError, submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { startOriginProcess } from '../helpers/origin-process.ts';
import { fixtureModels } from '../helpers/paths.ts';
import { wsUrl } from '../helpers/ws-client.ts';
import { Figures } from './figures.ts';

const originTimeoutMs = 1_500;
const grant = 20;
const originEnv = {
  // The fixtures only: no ONNX model to load, so a restart is quick.
  MODEL_DIR: fixtureModels,
  FREE_GRANT_CREDITS: String(grant),
};
it.override({
  pairOptions: {
    originEnv,
    edgeVars: { ORIGIN_TIMEOUT_MS: String(originTimeoutMs), RATE_LIMIT_ENABLED: 'false' },
  },
});

const figures = new Figures('dependencies');

/** Answers `{code}` when `res` is the API's JSON error with that status, else what it is. */
function errorOf(res: ApiAnswer, status: number, code: string): boolean {
  const body = res.body as { error?: { code?: string; message?: unknown } } | undefined;
  return (
    res.status === status &&
    /^application\/json/.test(res.headers.get('content-type') ?? '') &&
    body?.error?.code === code &&
    typeof body.error.message === 'string'
  );
}

/**
 * The edge's health while its one origin cannot answer: 503 `starting`, the origin
 * unreachable, within the edge's health timeout rather than the origin's silence.
 */
async function unreachableHealth(pair: EdgePair): Promise<boolean> {
  const started = Date.now();
  const res = await pair.api.call('GET', '/v1/health');
  const waited = Date.now() - started;
  expect(res.status).toBe(503);
  expect(res.body).toMatchObject({ status: 'starting', origins: [{ status: 'unreachable' }] });
  expect(waited).toBeLessThan(originTimeoutMs + 3_000);
  return res.status === 503 && Number(res.headers.get('retry-after')) >= 1;
}

/** The user's ledger as `reason:reference delta` rows, oldest first. */
async function ledgerRows(pair: EdgePair, token: string): Promise<string[]> {
  const res = await pair.api.call('GET', '/v1/billing/ledger', { token });
  expect(res.status).toBe(200);
  const data = res.body.data as { delta: number; reason: string; reference: string }[];
  expect(data.reduce((sum, e) => sum + e.delta, 0)).toBe(res.body.balance);
  return data.reverse().map((e) => `${e.reason}:${e.reference} ${e.delta}`);
}

let user: { id: string; token: string };
const failedJobs: Job[] = [];
it.beforeAll(async ({ pair }) => {
  user = await pair.api.signUp();
});

/** GET routes forwarded to the origin (the edge answers `/v1/health` itself: see below). */
const probes = () => [
  '/v1/models',
  '/v1/me',
  '/v1/jobs?limit=5',
  `/v1/jobs/${failedJobs[0]?.id ?? 'job_01M8000000000000000000000Z'}`,
  '/v1/billing/ledger',
];

describe('a model that fails', () => {
  it('throws or answers garbage: the job fails with model_error / invalid_output, refunded exactly once', async ({
    pair,
  }) => {
    const kinds = [
      { input: { fail: true }, code: 'model_error' },
      { input: { garbage: true }, code: 'invalid_output' },
    ];
    const perKind = 4;
    for (const kind of kinds) {
      const jobs = await Promise.all(
        Array.from({ length: perKind }, () =>
          submitJob(pair.api, user.token, 'steps', { steps: 2, stepMs: 5, ...kind.input }),
        ),
      );
      let held = 0;
      for (const job of jobs) {
        const ended = await pair.api.waitForJob(user.token, job.id);
        failedJobs.push(ended);
        const ok =
          ended.status === 'failed' &&
          ended.error?.code === kind.code &&
          ended.error.message.length > 0 &&
          ended.output === null;
        if (ok) held++;
        expect(ended, JSON.stringify(ended)).toMatchObject({
          status: 'failed',
          output: null,
          error: { code: kind.code },
        });
      }
      figures.add(`model ${kind.code} → failed, clear code`, perKind, held);
    }
    const rows = await ledgerRows(pair, user.token);
    let refundedOnce = 0;
    for (const job of failedJobs) {
      const debits = rows.filter((r) => r === `job:${job.id} -1`).length;
      const refunds = rows.filter((r) => r === `refund:${job.id} 1`).length;
      if (debits === 1 && refunds === 1) refundedOnce++;
    }
    // Canceling a failed job refunds nothing more.
    for (const job of failedJobs.slice(0, 2)) {
      expectApiError(
        await pair.api.call('POST', `/v1/jobs/${job.id}/cancel`, { token: user.token }),
        409,
        'conflict',
      );
    }
    expect(await ledgerRows(pair, user.token)).toEqual(rows);
    expect(refundedOnce).toBe(failedJobs.length);
    expect(await creditsOf(pair.api, user.token)).toBe(grant);
    figures.add('failed job refunded exactly once', failedJobs.length, refundedOnce);
  });
});

describe('an origin that stops answering (SIGSTOP)', () => {
  it('is a bounded 504 gateway_timeout; after SIGCONT it recovers, and a retried job is charged once', async ({
    pair,
  }) => {
    const before = await creditsOf(pair.api, user.token);
    const key = `retry-${randomUUID()}`;
    const jobBody = { model: 'steps', input: { steps: 1, stepMs: 0 } };
    pair.origin.child.kill('SIGSTOP');
    let timeouts = 0;
    let tried = 0;
    const slowest: number[] = [];
    try {
      const sends = [
        ...probes().map((path) => () => pair.api.call('GET', path, { token: user.token })),
        () =>
          pair.api.call('POST', '/v1/jobs', {
            token: user.token,
            body: jobBody,
            headers: { 'idempotency-key': key },
          }),
      ];
      const answers = await Promise.all(
        sends.map(async (send) => {
          const started = Date.now();
          const res = await send();
          slowest.push(Date.now() - started);
          return res;
        }),
      );
      for (const res of answers) {
        tried++;
        if (errorOf(res, 504, 'gateway_timeout') && Number(res.headers.get('retry-after')) >= 1) {
          timeouts++;
        }
      }
      expect(
        answers.map((r) => r.status),
        JSON.stringify(answers.map((r) => r.body)),
      ).toEqual(answers.map(() => 504));
      // Bounded: the edge's timeout, not the origin's silence.
      expect(Math.max(...slowest)).toBeLessThan(originTimeoutMs + 3_000);
      expect(Math.min(...slowest)).toBeGreaterThanOrEqual(originTimeoutMs - 50);
      tried++;
      if (await unreachableHealth(pair)) timeouts++;
    } finally {
      pair.origin.child.kill('SIGCONT');
    }
    figures.add(
      'origin frozen → 504 gateway_timeout (health 503)',
      tried,
      timeouts,
      `ORIGIN_TIMEOUT_MS=${originTimeoutMs}`,
    );

    // Recovers: every probe answers 200 again, soon.
    const deadline = Date.now() + 15_000;
    let recovered = 0;
    const answering = [...probes(), '/v1/health'];
    for (const path of answering) {
      let res = await pair.api.call('GET', path, { token: user.token });
      while (res.status !== 200 && Date.now() < deadline) {
        await sleep(100);
        res = await pair.api.call('GET', path, { token: user.token });
      }
      if (res.status === 200) recovered++;
    }
    expect(recovered).toBe(answering.length);
    figures.add('origin resumed (SIGCONT) → answers again', answering.length, recovered);

    // The request that timed out may have been served after all: the retry with its
    // Idempotency-Key answers that job, or makes it now; either way one job, one debit.
    const retried = await pair.api.call<Job>('POST', '/v1/jobs', {
      token: user.token,
      body: jobBody,
      headers: { 'idempotency-key': key },
    });
    expect([200, 201, 202]).toContain(retried.status);
    const again = await pair.api.call<Job>('POST', '/v1/jobs', {
      token: user.token,
      body: jobBody,
      headers: { 'idempotency-key': key },
    });
    expect(again.body.id).toBe(retried.body.id);
    await pair.api.waitForJob(user.token, retried.body.id);
    const debits = (await ledgerRows(pair, user.token)).filter((r) => r.startsWith('job:')).length;
    const onlyOnce = (await creditsOf(pair.api, user.token)) === before - 1;
    expect(debits).toBe(failedJobs.length + 1);
    expect(onlyOnce).toBe(true);
    figures.add('retry after a 504 (Idempotency-Key) → charged once', 1, onlyOnce ? 1 : 0);
  });
});

describe('an origin that is down, then back with a full disk', () => {
  it('is a 502 bad_gateway while down, then 503 disk_full for new jobs, nothing debited', async ({
    pair,
  }) => {
    const { port, dataDir } = pair.origin;
    const before = await creditsOf(pair.api, user.token);
    await pair.origin.kill();

    let badGateways = 0;
    const paths = [...probes(), '/v1/jobs/job_01M8000000000000000000000Z/output'];
    const answers: ApiAnswer[] = [];
    for (const path of paths) answers.push(await pair.api.call('GET', path, { token: user.token }));
    answers.push(
      await pair.api.call('POST', '/v1/jobs', {
        token: user.token,
        body: { model: 'steps', input: {} },
      }),
      await pair.api.call('POST', '/v1/auth/login', {
        body: { email: 'nobody@example.test', password: 'whatever-long' },
      }),
    );
    for (const res of answers) if (errorOf(res, 502, 'bad_gateway')) badGateways++;
    // The WebSocket upgrade too: a JSON 502, not a hang.
    const upgrade = await new Promise<number>((resolve) => {
      const ws = new WebSocket(wsUrl(pair.edge.url, user.token));
      ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.once('open', () => {
        resolve(101);
        ws.terminate();
      });
      ws.once('error', () => resolve(-1));
    });
    if (upgrade === 502) badGateways++;
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 502));
    expect(upgrade).toBe(502);
    if (await unreachableHealth(pair)) badGateways++;
    figures.add('origin down → 502 bad_gateway (health 503)', answers.length + 2, badGateways);

    // Back on the same port and data, with a disk guard that always trips.
    pair.origin = await startOriginProcess({
      dataDir,
      waitReady: false,
      env: {
        ...originEnv,
        POOL_THREADS: '1',
        PORT: String(port),
        EDGE_SIGNATURE_CHECK: 'on',
        EDGE_SIGNING_SECRET: pair.secret,
        JWT_SECRET: pair.jwtSecret,
        DISK_MIN_FREE_PERCENT: '100',
      },
    });
    const deadline = Date.now() + 30_000;
    let health = await pair.api.call('GET', '/v1/health');
    while (health.status !== 200 && Date.now() < deadline) {
      await sleep(100);
      health = await pair.api.call('GET', '/v1/health');
    }
    expect(health.body).toMatchObject({ status: 'degraded', disk: { low: true } });

    const tries = 6;
    let refused = 0;
    for (let i = 0; i < tries; i++) {
      const res = await pair.api.call('POST', '/v1/jobs', {
        token: user.token,
        body: { model: 'steps', input: { steps: 1, stepMs: 0 } },
        ...(i % 2 ? { headers: { 'idempotency-key': `full-${i}` } } : {}),
      });
      if (errorOf(res, 503, 'disk_full') && Number(res.headers.get('retry-after')) >= 1) refused++;
      else expectApiError(res, 503, 'disk_full');
    }
    // Nothing debited, reads still work, and the restart refunded nothing twice.
    expect(await creditsOf(pair.api, user.token)).toBe(before);
    const rows = await ledgerRows(pair, user.token);
    for (const job of failedJobs) {
      expect(rows.filter((r) => r === `refund:${job.id} 1`)).toHaveLength(1);
    }
    const read = await pair.api.call('GET', `/v1/jobs/${failedJobs[0]?.id}`, { token: user.token });
    expect(read.status).toBe(200);
    expect(refused).toBe(tries);
    figures.add('disk guard tripped → 503 disk_full, nothing debited', tries, refused);
  });
});

describe('the figures', () => {
  it('are recorded, with nothing lost, and the edge never died', ({ pair }) => {
    expect(pair.edge.child.exitCode).toBeNull();
    expect(pair.edge.output()).not.toContain('unhandled edge error');
    figures.expectNoneLost('dependencies', 8);
  });
});
