import type { Server } from 'node:http';
import type { Background } from '../build-services.ts';
import type { Services } from '../services.ts';

/**
 * The origin's graceful stop, in order: new jobs are refused (503 `not_ready`, health 503)
 * while reads still work; running jobs get `graceMs` to finish; those still running then
 * go back to the queue (their attempt given back, nothing refunded or charged twice);
 * WebSockets close with 1012 so clients reconnect and resume; webhook attempts under way
 * get what is left of the grace (one still under way then is retried after its claim); then
 * the servers, the pool and the database close.
 */
export async function gracefulStop(parts: {
  services: Services;
  background: Background;
  server: Server;
  metricsServer: Server;
  graceMs: number;
}): Promise<void> {
  const { services, background, server } = parts;
  const { logger, scheduler } = services;
  const graceEnds = Date.now() + parts.graceMs;
  services.accepting = false;
  scheduler.pause();
  logger.info(
    { running: scheduler.active, graceMs: parts.graceMs },
    'stopping: draining running jobs',
  );
  const drained = await scheduler.drain(parts.graceMs);
  if (!drained) {
    const requeued = await scheduler.requeueRunning();
    logger.warn({ requeued }, 'grace period over: running jobs re-queued');
  }
  scheduler.close();
  services.hub.close();
  services.estimates.close();
  background.outputSweeper.stop();
  background.leaseSweeper.stop();
  services.disk.stop();
  await background.deliverer.stop(Math.max(0, graceEnds - Date.now()));
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    // A client holding a connection open does not hold the stop up for long.
    setTimeout(() => server.closeAllConnections(), 2_000).unref();
  });
  await new Promise<void>((resolve) => parts.metricsServer.close(() => resolve()));
  await services.pool.close();
  await services.store.close();
  logger.info('stopped');
}
