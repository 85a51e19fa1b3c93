/**
 * Prometheus metrics of a real origin, on their own listener (`metricsUrl`): names, labels,
 * and values that move by exactly what the test did. The tests of this file share one
 * origin and run one after another, so absolute gauge values are the test's own.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, onTestFinished } from 'vitest';
import type { Job } from '../../shared/schemas/jobs.ts';
import { submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import type { OriginProcess } from '../helpers/origin-process.ts';
import { fixtureModels } from '../helpers/paths.ts';
import { type Scrape, scrape } from '../helpers/prometheus.ts';
import { openSocket } from '../helpers/ws-client.ts';

it.override({
  originOptions: {
    env: {
      MODEL_DIR: fixtureModels,
      // One thread: a long job holds it and the next ones wait in the queue.
      POOL_THREADS: '1',
      WEBHOOK_ALLOW_INSECURE: 'true',
    },
  },
});

const steps = { model: 'steps' };
const isRunning = (j: Job) => j.status === 'running';

/** Scrapes until `check` holds (values fed by background work), answering that scrape. */
async function scrapeUntil(
  origin: OriginProcess,
  check: (s: Scrape) => boolean,
  what: string,
): Promise<Scrape> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const s = await scrape(origin.metricsUrl);
    if (check(s)) return s;
    if (Date.now() > deadline) throw new Error(`metrics never showed ${what}:\n${s.text}`);
    await sleep(50);
  }
}

/** How much each named series moved between two scrapes. */
const delta = (before: Scrape, after: Scrape, name: string, labels?: Record<string, string>) =>
  after.value(name, labels) - before.value(name, labels);

describe('the metrics listener', () => {
  it('answers Prometheus text with the origin and process metrics', async ({ origin }) => {
    const s = await scrape(origin.metricsUrl);
    expect(s.status).toBe(200);
    expect(s.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const [name, type] of [
      ['overture_http_requests_total', 'counter'],
      ['overture_http_request_duration_seconds', 'histogram'],
      ['overture_jobs_created_total', 'counter'],
      ['overture_jobs_finished_total', 'counter'],
      ['overture_inference_duration_seconds', 'histogram'],
      ['overture_queue_wait_seconds', 'histogram'],
      ['overture_queue_length', 'gauge'],
      ['overture_jobs_active', 'gauge'],
      ['overture_ws_connections', 'gauge'],
      ['overture_webhook_attempts_total', 'counter'],
      ['overture_ledger_credits', 'gauge'],
      ['process_cpu_seconds_total', 'counter'],
      ['process_resident_memory_bytes', 'gauge'],
      ['nodejs_eventloop_lag_seconds', 'gauge'],
    ]) {
      expect(s.text).toContain(`# TYPE ${name} ${type}\n`);
    }
    expect(s.value('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(s.value('overture_queue_length')).toBe(0);
  });

  it('serves nothing else, and the API port does not serve metrics', async ({ api, origin }) => {
    const base = new URL(origin.metricsUrl);
    for (const path of ['/', '/metrics/', '/metrics/extra', '/v1/health', '/healthz']) {
      const res = await fetch(new URL(path, base));
      expect(res.status, path).toBe(404);
      expect(await res.text()).not.toContain('overture_');
    }
    const post = await fetch(base, { method: 'POST' });
    expect(post.status).toBe(404);

    const onApiPort = await api.call('GET', '/metrics');
    expect(onApiPort.status).toBe(404);
    expect(onApiPort.body?.error?.code).toBe('not_found');
    expect(onApiPort.text).not.toContain('overture_');
  });
});

describe('values move with what the origin does', () => {
  it('counts HTTP requests by route pattern, never by raw path', async ({ api, origin }) => {
    const user = await api.signUp();
    const job = await submitJob(api, user.token, 'steps', { steps: 1, stepMs: 0 });
    await api.waitForJob(user.token, job.id);
    const unknown = `${job.id.slice(0, -6)}ZZZZZZ`;
    const before = await scrape(origin.metricsUrl);

    for (let i = 0; i < 3; i++) {
      expect((await api.call('GET', `/v1/jobs/${job.id}`, { token: user.token })).status).toBe(200);
    }
    expect((await api.call('GET', `/v1/jobs/${unknown}`, { token: user.token })).status).toBe(404);
    expect((await api.call('GET', `/v1/jobs/${job.id}/output`, { token: user.token })).status).toBe(
      200,
    );
    expect((await api.call('GET', '/v1/me')).status).toBe(401);
    // A path no route matches must not become a label either.
    const stray = `/v1/nowhere-${randomUUID()}`;
    expect((await api.call('GET', stray)).status).toBe(404);

    const after = await scrape(origin.metricsUrl);
    const requests = 'overture_http_requests_total';
    const route = (path: string, status: string) => ({ method: 'GET', route: path, status });
    expect(delta(before, after, requests, route('/v1/jobs/:id', '200'))).toBe(3);
    expect(delta(before, after, requests, route('/v1/jobs/:id', '404'))).toBe(1);
    expect(delta(before, after, requests, route('/v1/jobs/:id/output', '200'))).toBe(1);
    expect(delta(before, after, requests, route('/v1/me', '401'))).toBe(1);
    expect(
      delta(
        before,
        after,
        'overture_http_request_duration_seconds_count',
        route('/v1/jobs/:id', '200'),
      ),
    ).toBe(3);
    const routes = new Set(
      after.samples.filter((s) => s.name === requests).map((s) => s.labels.route),
    );
    for (const r of routes) expect(r).not.toMatch(/job_|[A-Z0-9]{20}/);
    expect(after.text).not.toContain(job.id);
    expect(after.text).not.toContain(unknown);
    expect(after.text).not.toContain(stray);
  });

  it('counts jobs, their queue and their endings, and the ledger', async ({ api, origin }) => {
    const before = await scrape(origin.metricsUrl);
    const user = await api.signUp();
    const long = await submitJob(api, user.token, 'steps', { steps: 40, stepMs: 100 });
    await api.waitForJob(user.token, long.id, isRunning);
    const ok = await submitJob(api, user.token, 'steps', { steps: 1, stepMs: 0 });
    const bad = await submitJob(api, user.token, 'steps', { steps: 1, stepMs: 0, fail: true });

    const busy = await scrape(origin.metricsUrl);
    expect(busy.value('overture_queue_length')).toBe(2);
    expect(busy.value('overture_jobs_active')).toBe(1);
    expect(delta(before, busy, 'overture_jobs_created_total', steps)).toBe(3);

    for (const job of [long, ok, bad]) await api.waitForJob(user.token, job.id);
    const after = await scrape(origin.metricsUrl);
    expect(after.value('overture_queue_length')).toBe(0);
    expect(after.value('overture_jobs_active')).toBe(0);
    expect(delta(before, after, 'overture_jobs_created_total', steps)).toBe(3);
    const finished = 'overture_jobs_finished_total';
    expect(delta(before, after, finished, { ...steps, status: 'succeeded' })).toBe(2);
    expect(delta(before, after, finished, { ...steps, status: 'failed' })).toBe(1);
    expect(delta(before, after, finished, { ...steps, status: 'canceled' })).toBe(0);
    // Inference time is measured for the jobs that produced an output.
    expect(delta(before, after, 'overture_inference_duration_seconds_count', steps)).toBe(2);
    expect(delta(before, after, 'overture_queue_wait_seconds_count', steps)).toBe(3);
    // The jobs behind the long one waited at least while it ran.
    expect(delta(before, after, 'overture_queue_wait_seconds_sum', steps)).toBeGreaterThan(1);

    const credits = 'overture_ledger_credits';
    expect(delta(before, after, credits, { reason: 'grant' })).toBe(20);
    expect(delta(before, after, credits, { reason: 'job' })).toBe(-3);
    expect(delta(before, after, credits, { reason: 'refund' })).toBe(1);
  });

  it('counts open WebSocket connections', async ({ api, origin }) => {
    const user = await api.signUp();
    const connections = 'overture_ws_connections';
    expect((await scrape(origin.metricsUrl)).value(connections)).toBe(0);
    const socket = await openSocket(origin.url, { token: user.token });
    expect((await scrape(origin.metricsUrl)).value(connections)).toBe(1);
    const second = await openSocket(origin.url, { token: user.token });
    expect((await scrape(origin.metricsUrl)).value(connections)).toBe(2);
    second.ws.close();
    socket.ws.close();
    await scrapeUntil(origin, (s) => s.value(connections) === 0, 'no connection after the close');
  });

  it('counts webhook attempts by result', async ({ api, origin }) => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(req.url === '/ok' ? 204 : 400).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const receiver = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const user = await api.signUp();
    const before = await scrape(origin.metricsUrl);
    for (const path of ['/ok', '/refused']) {
      const res = await api.call<Job>('POST', '/v1/jobs', {
        token: user.token,
        body: { model: 'steps', input: { steps: 1, stepMs: 0 }, webhook: { url: receiver + path } },
      });
      expect(res.status).toBe(202);
    }
    const attempts = 'overture_webhook_attempts_total';
    const after = await scrapeUntil(
      origin,
      (s) =>
        delta(before, s, attempts, { result: 'delivered' }) === 1 &&
        delta(before, s, attempts, { result: 'failed' }) === 1,
      'one delivered and one failed webhook',
    );
    // A 400 is final: no retry was scheduled.
    expect(delta(before, after, attempts, { result: 'retry' })).toBe(0);
  });
});
