import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Metrics } from './metrics.ts';

/** Values read at scrape time rather than pushed. */
export interface MetricSources {
  queueLength(): Promise<number>;
  activeJobs(): number;
  wsConnections(): number;
  /** Sum of ledger deltas by reason. */
  ledgerTotals(): Promise<Record<string, number>>;
}

const durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * The origin's metrics in Prometheus form (prom-client), with process metrics.
 *
 * @example
 * const { metrics, registry } = prometheusMetrics(sources);
 */
export function prometheusMetrics(sources: MetricSources): {
  metrics: Metrics;
  registry: Registry;
} {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const requests = new Counter({
    name: 'overture_http_requests_total',
    help: 'HTTP requests by method, route and status.',
    labelNames: ['method', 'route', 'status'],
    registers,
  });
  const latency = new Histogram({
    name: 'overture_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: durationBuckets,
    registers,
  });
  const created = new Counter({
    name: 'overture_jobs_created_total',
    help: 'Jobs accepted, by model.',
    labelNames: ['model'],
    registers,
  });
  const finished = new Counter({
    name: 'overture_jobs_finished_total',
    help: 'Jobs that reached a terminal status, by model and status.',
    labelNames: ['model', 'status'],
    registers,
  });
  const wait = new Histogram({
    name: 'overture_queue_wait_seconds',
    help: 'Time from a job being accepted to its start, by model.',
    labelNames: ['model'],
    buckets: durationBuckets,
    registers,
  });
  const inference = new Histogram({
    name: 'overture_inference_duration_seconds',
    help: 'Inference time measured in the worker thread, by model.',
    labelNames: ['model'],
    buckets: durationBuckets,
    registers,
  });
  const slow = new Counter({
    name: 'overture_ws_slow_consumers_dropped_total',
    help: 'WebSockets closed because their unsent bytes passed the bound.',
    registers,
  });
  const webhooks = new Counter({
    name: 'overture_webhook_attempts_total',
    help: 'Outbound webhook delivery attempts, by result (delivered, retry, failed).',
    labelNames: ['result'],
    registers,
  });
  new Gauge({
    name: 'overture_queue_length',
    help: 'Jobs waiting in the queue.',
    registers,
    async collect() {
      this.set(await sources.queueLength());
    },
  });
  new Gauge({
    name: 'overture_jobs_active',
    help: 'Jobs running now.',
    registers,
    collect() {
      this.set(sources.activeJobs());
    },
  });
  new Gauge({
    name: 'overture_ws_connections',
    help: 'Open WebSocket connections.',
    registers,
    collect() {
      this.set(sources.wsConnections());
    },
  });
  new Gauge({
    name: 'overture_ledger_credits',
    help: 'Sum of all ledger rows by reason (credits granted, bought, spent, refunded, taken back).',
    labelNames: ['reason'],
    registers,
    async collect() {
      this.reset();
      for (const [reason, total] of Object.entries(await sources.ledgerTotals())) {
        this.set({ reason }, total);
      }
    },
  });

  const metrics: Metrics = {
    request({ method, route, status }, seconds) {
      const labels = { method, route, status: String(status) };
      requests.inc(labels);
      latency.observe(labels, seconds);
    },
    jobCreated: (model) => created.inc({ model }),
    jobFinished: (model, status) => finished.inc({ model, status }),
    queueWait: (model, seconds) => wait.observe({ model }, seconds),
    inference: (model, seconds) => inference.observe({ model }, seconds),
    slowConsumerDropped: () => slow.inc(),
    webhookAttempt: (result) => webhooks.inc({ result }),
  };
  return { metrics, registry };
}

/**
 * Serves `GET /metrics` on its own address, apart from the API: it is never forwarded by
 * the edge and needs no edge signature, so bind it where only the scraper reaches it.
 */
export async function serveMetrics(
  registry: Registry,
  host: string,
  port: number,
): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) =>
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return server;
}

export const metricsPort = (server: Server): number => (server.address() as AddressInfo).port;
