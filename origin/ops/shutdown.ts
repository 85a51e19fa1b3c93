import type { Server } from 'node:http';
import type { InferencePool } from '../inference/pool.ts';
import type { OutputSweeper } from '../outputs/retention.ts';
import type { Services } from '../services.ts';
import type { Store } from '../store/store.ts';
import type { WebhookDeliverer } from '../webhooks/deliverer.ts';
import type { WsHub } from '../ws/hub.ts';
import type { DiskGuard } from './disk-guard.ts';

/**
 * The origin's graceful stop, in order: new jobs are refused (503 `not_ready`, health 503)
 * while reads still work; running jobs get `graceMs` to finish; those still running then
 * go back to the queue (their attempt given back, nothing refunded or charged twice);
 * WebSockets close with 1012 so clients reconnect and resume; then the servers, the pool
 * and the database close.
 */
export async function gracefulStop(parts: {
  services: Services;
  hub: WsHub;
  server: Server;
  metricsServer: Server;
  deliverer: WebhookDeliverer;
  sweeper: OutputSweeper;
  disk: DiskGuard;
  pool: Pick<InferencePool, 'close'>;
  store: Store;
  graceMs: number;
}): Promise<void> {
  const { services, hub, server } = parts;
  const { logger } = services;
  services.accepting = false;
  services.scheduler.pause();
  const running = services.scheduler.active;
  logger.info({ running, graceMs: parts.graceMs }, 'stopping: draining running jobs');
  const drained = await services.scheduler.drain(parts.graceMs);
  if (!drained) {
    const requeued = await services.scheduler.requeueRunning();
    logger.warn({ requeued }, 'grace period over: running jobs re-queued for the next start');
  }
  hub.close();
  parts.sweeper.stop();
  parts.disk.stop();
  await parts.deliverer.stop();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    // A client holding a connection open does not hold the stop up for long.
    setTimeout(() => server.closeAllConnections(), 2_000).unref();
  });
  await new Promise<void>((resolve) => parts.metricsServer.close(() => resolve()));
  await parts.pool.close();
  parts.store.close();
  logger.info('stopped');
}
