import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type ServerType, serve } from '@hono/node-server';
import { edgeTrust } from './auth/edge-trust.ts';
import { loadJwtSecret } from './auth/jwt-secret.ts';
import { authenticate } from './auth/principal.ts';
import { createTokenSigner } from './auth/tokens.ts';
import { createBilling } from './billing/billing.ts';
import type { Env } from './env.ts';
import { createApp } from './http/app.ts';
import { loadModels } from './inference/models/registry.ts';
import { createInferencePool } from './inference/pool.ts';
import { Scheduler } from './jobs/scheduler.ts';
import { createLogger } from './logger.ts';
import { metricsPort, prometheusMetrics, serveMetrics } from './metrics/prometheus.ts';
import { diskGuard } from './ops/disk-guard.ts';
import { watchJobMetrics } from './ops/job-metrics.ts';
import { gracefulStop } from './ops/shutdown.ts';
import { outputFiles } from './outputs/files.ts';
import { OutputSweeper } from './outputs/retention.ts';
import type { Services } from './services.ts';
import { openSqliteStore } from './store/sqlite/index.ts';
import { WebhookDeliverer } from './webhooks/deliverer.ts';
import { WsHub } from './ws/hub.ts';

const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as { version: string };

export interface RunningOrigin {
  services: Services;
  hub: WsHub;
  server: ServerType;
  port: number;
  /** Graceful: refuse new jobs, let running ones finish (or re-queue them), then close. */
  stop(): Promise<void>;
}

/**
 * Builds every service from a validated environment and starts listening at once; the
 * inference pool warms up behind it (health answers `starting` until it is done).
 */
export async function startOrigin(env: Env): Promise<RunningOrigin> {
  const logger = createLogger(env.LOG_LEVEL);
  const models = loadModels(env.MODEL_DIR);
  const store = openSqliteStore(join(env.DATA_DIR, 'overture.sqlite'), {
    onListenerError: (error, event) =>
      logger.error({ err: error, jobId: event.jobId, seq: event.seq }, 'job event listener failed'),
  });
  const tokens = createTokenSigner(
    loadJwtSecret({
      configured: env.JWT_SECRET,
      dataDir: env.DATA_DIR,
      production: env.NODE_ENV === 'production',
    }),
    env.JWT_TTL_SECONDS,
  );
  const outputs = outputFiles(join(env.DATA_DIR, 'outputs'));
  const disk = diskGuard(env.DATA_DIR, {
    minFreeBytes: env.DISK_MIN_FREE_BYTES,
    minFreePercent: env.DISK_MIN_FREE_PERCENT,
    intervalMs: env.DISK_CHECK_MS,
  });
  const pool = createInferencePool({
    models: models.list(),
    threads: env.POOL_THREADS,
    executionProvider: env.EXECUTION_PROVIDER,
    onError: (error) => logger.error({ err: error }, 'inference worker died; it is replaced'),
  });

  let hub: WsHub | undefined;
  const scheduler: Scheduler = new Scheduler({
    store: store.jobs,
    pool,
    models,
    outputs,
    jobTimeoutMs: env.JOB_TIMEOUT_MS,
    abortGraceMs: env.ABORT_GRACE_MS,
    progressIntervalMs: env.PROGRESS_INTERVAL_MS,
    maxAttempts: env.MAX_ATTEMPTS,
    logger,
    onInference: (model, ms) => metrics.inference(model, ms / 1000),
  });
  const { metrics, registry } = prometheusMetrics({
    queueLength: () => store.jobs.countQueued(),
    activeJobs: () => scheduler.active,
    wsConnections: () => hub?.connectionCount ?? 0,
    ledgerTotals: () => store.ledger.totals(),
  });
  watchJobMetrics(store.jobs, metrics);
  await scheduler.recover();

  const deliverer = new WebhookDeliverer({
    webhooks: store.webhooks,
    accounts: store.accounts,
    logger,
    timeoutMs: env.WEBHOOK_TIMEOUT_MS,
    maxAttempts: env.WEBHOOK_MAX_ATTEMPTS,
    retryBaseMs: env.WEBHOOK_RETRY_BASE_MS,
    allowInsecure: env.WEBHOOK_ALLOW_INSECURE,
    concurrency: env.WEBHOOK_CONCURRENCY,
    onAttempt: (result) => metrics.webhookAttempt(result),
  });
  // Deliveries are written with job events; a delivery left pending by a restart goes now.
  store.jobs.onEvent((event) => {
    if (event.delivery) deliverer.wake();
  });
  deliverer.wake();
  const sweeper = new OutputSweeper({
    store: store.jobs,
    outputs,
    ttlMs: env.OUTPUT_TTL,
    intervalMs: env.RETENTION_SWEEP_MS,
    logger,
  });
  sweeper.start();

  const services: Services = {
    env,
    version,
    logger,
    store,
    tokens,
    models,
    pool,
    scheduler,
    outputs,
    billing: createBilling(env),
    metrics,
    disk,
    accepting: true,
  };
  const edge =
    env.EDGE_SIGNATURE_CHECK === 'on' && env.EDGE_SIGNING_SECRET
      ? edgeTrust({ secret: env.EDGE_SIGNING_SECRET, maxAgeSeconds: env.EDGE_SIGNATURE_MAX_AGE_S })
      : undefined;
  if (!edge) logger.warn('EDGE_SIGNATURE_CHECK=off: the origin accepts unsigned requests');
  const app = createApp(services, edge);
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: env.HOST, port: env.PORT }, () => resolve(s));
  });
  hub = new WsHub({
    store: store.jobs,
    authenticate: (token) => authenticate({ accounts: store.accounts, tokens }, token),
    edge,
    limits: {
      maxBufferedBytes: env.WS_MAX_BUFFERED_BYTES,
      maxMessageBytes: env.WS_MAX_MESSAGE_BYTES,
      maxSubscriptions: env.WS_MAX_SUBSCRIPTIONS,
      maxSocketsPerUser: env.WS_MAX_SOCKETS_PER_USER,
      errorBudget: env.WS_ERROR_BUDGET,
      authTimeoutMs: env.WS_AUTH_TIMEOUT_MS,
      pingIntervalMs: env.WS_PING_INTERVAL_MS,
    },
    logger,
    onSlowConsumer: () => metrics.slowConsumerDropped(),
  });
  hub.attach(server as Server);
  const metricsServer = await serveMetrics(registry, env.METRICS_HOST, env.METRICS_PORT);
  const port = (server.address() as AddressInfo).port;
  // The start-up announcement is printed whatever LOG_LEVEL (but silent) says: tools read it.
  const announce = env.LOG_LEVEL === 'silent' ? logger : logger.child({}, { level: 'info' });
  announce.info(
    {
      port,
      host: env.HOST,
      metricsPort: metricsPort(metricsServer),
      models: models.list().map((m) => m.manifest.id),
    },
    'listening',
  );

  const started = performance.now();
  pool.ready.then(
    () => {
      logger.info(
        { device: pool.device, threads: pool.size, ms: Math.round(performance.now() - started) },
        'models loaded',
      );
      if (services.accepting) scheduler.start();
    },
    (error: unknown) => {
      logger.fatal({ err: error }, 'inference pool failed to start');
      process.exit(1);
    },
  );

  const wsHub = hub;
  return {
    services,
    hub: wsHub,
    server,
    port,
    stop: () =>
      gracefulStop({
        services,
        hub: wsHub,
        server: server as Server,
        metricsServer,
        deliverer,
        sweeper,
        disk,
        pool,
        store,
        graceMs: env.SHUTDOWN_GRACE_MS,
      }),
  };
}
