import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { type Built, buildServices, openStore, type ServiceOverrides } from './build-services.ts';
import type { Env } from './env.ts';
import { createApp } from './http/app.ts';
import { createLogger } from './logger.ts';
import { metricsPort, serveMetrics } from './metrics/prometheus.ts';
import { gracefulStop } from './ops/shutdown.ts';
import type { Services } from './services.ts';

export interface RunningOrigin {
  services: Services;
  server: ServerType;
  port: number;
  /** Rejects if the inference pool fails to start: the process should exit. */
  failed: Promise<never>;
  /** Graceful: refuse new jobs, let running ones finish (or re-queue them), then close. */
  stop(): Promise<void>;
}

/**
 * Takes back what a dead process left: temporary output files, and the claims whose lease
 * ended. When this process is the database's only user, every claim and temporary file is a
 * dead process's; in a cluster, only expired claims and files older than any running write.
 */
async function recover({ services, background }: Built, env: Env): Promise<void> {
  const now = Date.now();
  const exclusive = services.store.exclusive;
  services.outputs.removeTemporary(exclusive ? undefined : now - 2 * env.JOB_TIMEOUT_MS);
  await background.leaseSweeper.sweep(exclusive ? Number.MAX_SAFE_INTEGER : now);
  // Estimates start from the run times of the last minutes' jobs, not from nothing.
  services.estimates.seed(
    await services.store.stats.jobSamples({ from: now - estimateSeedWindowMs, to: now }),
  );
}

/** How far back the run times that seed the queue's estimates are read at start. */
const estimateSeedWindowMs = 10 * 60_000;

/**
 * Builds every service, recovers, and starts listening at once; each model's pool warms up
 * behind it (health answers `starting` until one is loaded), and the scheduler runs each
 * model's jobs once its pool is.
 */
export async function startOrigin(env: Env, overrides?: ServiceOverrides): Promise<RunningOrigin> {
  const logger = overrides?.logger ?? createLogger(env.LOG_LEVEL);
  const built = buildServices(env, await openStore(env, logger), { ...overrides, logger });
  const { services, background, edge } = built;
  const { pool, scheduler } = services;
  await recover(built, env);
  background.leaseSweeper.start();
  // A delivery left pending by a restart goes now; another origin's are looked for later.
  background.deliverer.start();
  background.outputSweeper.start();

  if (!edge) logger.warn('EDGE_SIGNATURE_CHECK=off: the origin accepts unsigned requests');
  const app = createApp(services, edge);
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: env.HOST, port: env.PORT }, () => resolve(s));
  });
  services.hub.attach(server as Server);
  const metricsServer = await serveMetrics(
    built.metricsRegistry,
    env.METRICS_HOST,
    env.METRICS_PORT,
  );
  const port = (server.address() as AddressInfo).port;
  // The start-up announcement is printed whatever LOG_LEVEL (but silent) says: tools read it.
  const announce = env.LOG_LEVEL === 'silent' ? logger : logger.child({}, { level: 'info' });
  announce.info(
    {
      port,
      host: env.HOST,
      metricsPort: metricsPort(metricsServer),
      originId: services.originId,
      models: services.models.list().map((m) => m.manifest.id),
    },
    'listening',
  );

  // Each model serves as soon as its own pool is loaded: the scheduler claims only jobs of
  // models whose pools are ready, and is woken as each one is.
  pool.onModelReady((model) => {
    const state = pool.states().find((s) => s.id === model);
    logger.info(
      {
        model,
        device: state?.device,
        threads: state?.threads,
        ms: state?.loadMs,
        rssGrowthBytes: state?.memory.measuredBytes,
      },
      'model loaded',
    );
    scheduler.wake();
  });
  if (services.accepting) scheduler.start();
  const failed = pool.ready.then(
    () => {
      logger.info({ device: pool.device, threads: pool.size }, 'models loaded');
      return new Promise<never>(() => {});
    },
    (error: unknown) => {
      logger.fatal({ err: error }, 'inference pool failed to start');
      throw error;
    },
  );

  return {
    services,
    server,
    port,
    failed,
    stop: () =>
      gracefulStop({
        services,
        background,
        server: server as Server,
        metricsServer,
        graceMs: env.SHUTDOWN_GRACE_MS,
      }),
  };
}
