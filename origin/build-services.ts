import { mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { apiKeyTags } from '../shared/api-key.ts';
import { type EdgeTrust, edgeTrust } from './auth/edge-trust.ts';
import { loadJwtSecret } from './auth/jwt-secret.ts';
import { authenticate, endedPrincipals } from './auth/principal.ts';
import { createTokenSigner } from './auth/tokens.ts';
import { createBilling } from './billing/billing.ts';
import type { Env, StoreEnv } from './env.ts';
import { fileInputResolver } from './files/file-inputs.ts';
import { createModelPools } from './inference/model-pools.ts';
import { loadModels } from './inference/models/registry.ts';
import { planPools, readDeploymentFile } from './inference/pool-plan.ts';
import { LeaseSweeper } from './jobs/lease-sweeper.ts';
import { QueueEstimates } from './jobs/queue-estimates.ts';
import { Scheduler } from './jobs/scheduler.ts';
import { newId } from './lib/ids.ts';
import { createLogger } from './logger.ts';
import { prometheusMetrics } from './metrics/prometheus.ts';
import { diskGuard } from './ops/disk-guard.ts';
import { watchJobMetrics } from './ops/job-metrics.ts';
import { edgeOutputs } from './outputs/edge-outputs.ts';
import { outputFiles } from './outputs/files.ts';
import { withInlineOutputs } from './outputs/inline-outputs.ts';
import type { OutputStore } from './outputs/output-store.ts';
import { OutputSweeper } from './outputs/retention.ts';
import type { Services } from './services.ts';
import { openPostgresStore } from './store/postgres/index.ts';
import { openSqliteStore } from './store/sqlite/index.ts';
import type { JobEvent, Store } from './store/store.ts';
import { WebhookDeliverer } from './webhooks/deliverer.ts';
import { WsHub } from './ws/hub.ts';

const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as { version: string };

/** The parts a test may supply instead of the real ones. */
export type ServiceOverrides = Partial<
  Pick<Services, 'logger' | 'pool' | 'models' | 'tokens' | 'outputs' | 'disk' | 'billing'>
>;

/** What runs beside the request handlers, started and stopped with the origin. */
export interface Background {
  deliverer: WebhookDeliverer;
  outputSweeper: OutputSweeper;
  leaseSweeper: LeaseSweeper;
}

export interface Built {
  services: Services;
  background: Background;
  /** Undefined when edge signatures are not checked (development). */
  edge: EdgeTrust | undefined;
  metricsRegistry: Registry;
}

/** Where the environment keeps outputs: this origin's disk, or the edge's R2 bucket. */
function openOutputs(env: Env): OutputStore {
  if (env.OUTPUT_STORE === 'edge' && env.EDGE_URL && env.EDGE_SIGNING_SECRET) {
    return edgeOutputs({
      edgeUrl: env.EDGE_URL,
      secret: env.EDGE_SIGNING_SECRET,
      writeDeadlineMs: env.OUTPUT_UPLOAD_DEADLINE_MS,
    });
  }
  return outputFiles(join(env.DATA_DIR, 'outputs'));
}

/** The one origin's SQLite file, in `DATA_DIR`. */
export const sqliteFile = (env: Pick<StoreEnv, 'DATA_DIR'>): string =>
  join(env.DATA_DIR, 'overture.sqlite');

/**
 * The store the environment names: PostgreSQL at `DATABASE_URL` (a cluster), else SQLite
 * in `DATA_DIR` (one origin). The origin opens it, and so does `scripts/admin.ts`.
 */
export async function openStore(env: StoreEnv, logger: Logger): Promise<Store> {
  const onListenerError = (error: unknown, event?: JobEvent) =>
    logger.error({ err: error, jobId: event?.jobId, seq: event?.seq }, 'job event listener failed');
  const maxProgressDeliveries = env.WEBHOOK_MAX_PROGRESS_PER_JOB;
  if (env.DATABASE_URL) {
    return openPostgresStore(env.DATABASE_URL, {
      poolSize: env.DB_POOL_SIZE,
      onListenerError,
      maxProgressDeliveries,
    });
  }
  return openSqliteStore(sqliteFile(env), { onListenerError, maxProgressDeliveries });
}

/**
 * Builds every service of an origin on `store` from a validated environment, once, in
 * dependency order; `overrides` replace leaf parts (a test's pool that never loads, say).
 * Nothing is started: `startOrigin` listens and starts the background work.
 *
 * @example
 * const { services, background } = buildServices(env, await openStore(env, logger));
 */
export function buildServices(env: Env, store: Store, overrides: ServiceOverrides = {}): Built {
  const logger = overrides.logger ?? createLogger(env.LOG_LEVEL);
  // The disk guard watches it, and the JWT secret and outputs may live in it: it must exist
  // even where nothing else creates it (outputs at the edge, the database elsewhere).
  mkdirSync(env.DATA_DIR, { recursive: true });
  const originId = env.ORIGIN_ID ?? `${hostname()}-${process.pid}-${newId('org').slice(-6)}`;
  const models = overrides.models ?? loadModels(env.MODEL_DIR);
  const jwtSecret = loadJwtSecret({
    configured: env.JWT_SECRET,
    dataDir: env.DATA_DIR,
    production: env.NODE_ENV === 'production',
  });
  const tokens = overrides.tokens ?? createTokenSigner(jwtSecret, env.JWT_TTL_SECONDS);
  const outputs = withInlineOutputs(overrides.outputs ?? openOutputs(env), store.jobs);
  const disk =
    overrides.disk ??
    diskGuard(env.DATA_DIR, {
      minFreeBytes: env.DISK_MIN_FREE_BYTES,
      minFreePercent: env.DISK_MIN_FREE_PERCENT,
      intervalMs: env.DISK_CHECK_MS,
    });
  const pool =
    overrides.pool ??
    createModelPools(
      planPools(
        models.list(),
        env.MODELS_FILE ? readDeploymentFile(env.MODELS_FILE, models.list()) : { models: {} },
        {
          threads: env.POOL_THREADS,
          device: env.EXECUTION_PROVIDER,
          cores: availableParallelism(),
          memoryBudget: env.MODEL_MEMORY_BUDGET,
        },
      ),
      { onError: (error) => logger.error({ err: error }, 'inference worker died; it is replaced') },
    );
  const edge =
    env.EDGE_SIGNATURE_CHECK === 'on' && env.EDGE_SIGNING_SECRET
      ? edgeTrust({
          secret: env.EDGE_SIGNING_SECRET,
          maxAgeSeconds: env.EDGE_SIGNATURE_MAX_AGE_S,
          logger,
        })
      : undefined;
  const estimates = new QueueEstimates({
    store: store.jobs,
    events: store.events,
    threadsOf: (model) => pool.threadsOf(model),
  });
  const hub = new WsHub({
    store: store.jobs,
    estimates,
    events: store.events,
    authenticate: (token) =>
      authenticate({ accounts: store.accounts, sessions: store.sessions, tokens }, token),
    endedPrincipals: (principals) => endedPrincipals({ sessions: store.sessions }, principals),
    edge,
    limits: {
      maxBufferedBytes: env.WS_MAX_BUFFERED_BYTES,
      maxMessageBytes: env.WS_MAX_MESSAGE_BYTES,
      maxSubscriptions: env.WS_MAX_SUBSCRIPTIONS,
      maxSocketsPerUser: env.WS_MAX_SOCKETS_PER_USER,
      errorBudget: env.WS_ERROR_BUDGET,
      authTimeoutMs: env.WS_AUTH_TIMEOUT_MS,
      pingIntervalMs: env.WS_PING_INTERVAL_MS,
      maxMessagesPerSecond: env.WS_MAX_MESSAGES_PER_S,
      maxReplayEvents: env.WS_MAX_REPLAY_EVENTS,
      replayEventsPerSecond: env.WS_REPLAY_EVENTS_PER_S,
    },
    logger,
    onSlowConsumer: () => metrics.slowConsumerDropped(),
    resyncIntervalMs: env.WS_RESYNC_MS,
    recheckIntervalMs: env.WS_AUTH_RECHECK_MS,
  });
  const scheduler = new Scheduler({
    store: store.jobs,
    events: store.events,
    pool,
    models,
    outputs,
    resolveInput: fileInputResolver({ models, files: store.files, outputs }),
    inlineOutputMaxBytes: env.INLINE_OUTPUT_MAX_BYTES,
    owner: originId,
    leaseMs: env.LEASE_MS,
    maxQueueWaitMs: env.MAX_QUEUE_WAIT_MS,
    jobTimeoutMs: env.JOB_TIMEOUT_MS,
    abortGraceMs: env.ABORT_GRACE_MS,
    progressIntervalMs: env.PROGRESS_INTERVAL_MS,
    logger,
    onInference: (model, ms) => metrics.inference(model, ms / 1000),
  });
  const { metrics, registry } = prometheusMetrics({
    queueLength: () => store.jobs.countQueued(),
    activeJobs: () => scheduler.active,
    wsConnections: () => hub.connectionCount,
    ledgerTotals: () => store.ledger.totals(),
  });
  watchJobMetrics(store.jobs, metrics);

  const deliverer = new WebhookDeliverer({
    webhooks: store.webhooks,
    accounts: store.accounts,
    logger,
    deadlineMs: env.WEBHOOK_TIMEOUT_MS,
    maxAttempts: env.WEBHOOK_MAX_ATTEMPTS,
    retryBaseMs: env.WEBHOOK_RETRY_BASE_MS,
    allowInsecure: env.WEBHOOK_ALLOW_INSECURE,
    concurrency: env.WEBHOOK_CONCURRENCY,
    maxInFlightPerUser: env.WEBHOOK_MAX_IN_FLIGHT_PER_USER,
    // An attempt ends by its deadline; another origin retries it only well after that. A claim
    // a dead process left is a failed attempt whose retry is due when the claim ends.
    claimMs: Math.max(env.LEASE_MS, 2 * env.WEBHOOK_TIMEOUT_MS),
    pollMs: env.WEBHOOK_POLL_MS,
    onAttempt: (result) => metrics.webhookAttempt(result),
  });
  // Deliveries are written with the events this process commits: it sends them.
  store.jobs.onCommit((event) => {
    if (event.delivery) deliverer.wake();
  });
  const outputSweeper = new OutputSweeper({
    store: store.jobs,
    outputs,
    files: store.files,
    ttlMs: env.OUTPUT_TTL,
    intervalMs: env.RETENTION_SWEEP_MS,
    logger,
  });
  const leaseSweeper = new LeaseSweeper({
    store: store.jobs,
    maxAttempts: env.MAX_ATTEMPTS,
    maxQueueWaitMs: env.MAX_QUEUE_WAIT_MS,
    intervalMs: env.LEASE_SWEEP_MS,
    logger,
  });

  const services: Services = {
    env,
    version,
    originId,
    logger,
    store,
    tokens,
    apiKeyTags: apiKeyTags(jwtSecret),
    models,
    pool,
    scheduler,
    estimates,
    hub,
    outputs,
    billing: overrides.billing ?? createBilling(env),
    metrics,
    disk,
    accepting: true,
  };
  return {
    services,
    background: { deliverer, outputSweeper, leaseSweeper },
    edge,
    metricsRegistry: registry,
  };
}
