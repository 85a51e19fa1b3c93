import type { Logger } from 'pino';
import type { ApiKeyTags } from '../shared/api-key.ts';
import type { TokenSigner } from './auth/tokens.ts';
import type { Billing } from './billing/billing.ts';
import type { Env } from './env.ts';
import type { ModelPools } from './inference/model-pools.ts';
import type { ModelRegistry } from './inference/models/registry.ts';
import type { QueueEstimates } from './jobs/queue-estimates.ts';
import type { JobRunner } from './jobs/scheduler.ts';
import type { Metrics } from './metrics/metrics.ts';
import type { DiskGuard } from './ops/disk-guard.ts';
import type { OutputStore } from './outputs/output-store.ts';
import type { Store } from './store/store.ts';
import type { Hub } from './ws/hub.ts';

/** Everything a request handler may use, built once by `buildServices` (or for a test). */
export interface Services {
  env: Env;
  version: string;
  /** This origin's id: the owner of its claims, in logs and health. */
  originId: string;
  logger: Logger;
  store: Store;
  tokens: TokenSigner;
  /** Mints API keys that name their user, under the JWT secret (the edge reads them). */
  apiKeyTags: ApiKeyTags;
  models: ModelRegistry;
  /** One worker pool per model. */
  pool: ModelPools;
  scheduler: JobRunner;
  /** Estimated starts of queued jobs (`etaSeconds`), from recent run times. */
  estimates: QueueEstimates;
  hub: Hub;
  outputs: OutputStore;
  billing: Billing;
  metrics: Metrics;
  disk: DiskGuard;
  /** False once shutdown began: new jobs are refused with 503 `not_ready`. */
  accepting: boolean;
}
