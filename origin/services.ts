import type { Logger } from 'pino';
import type { TokenSigner } from './auth/tokens.ts';
import type { Billing } from './billing/billing.ts';
import type { Env } from './env.ts';
import type { ModelRegistry } from './inference/models/registry.ts';
import type { InferencePool } from './inference/pool.ts';
import type { Scheduler } from './jobs/scheduler.ts';
import type { Metrics } from './metrics/metrics.ts';
import type { DiskGuard } from './ops/disk-guard.ts';
import type { OutputFiles } from './outputs/files.ts';
import type { Store } from './store/store.ts';

/** Everything a request handler may use, built once in `main.ts` (or by a test). */
export interface Services {
  env: Env;
  version: string;
  logger: Logger;
  store: Store;
  tokens: TokenSigner;
  models: ModelRegistry;
  pool: Pick<InferencePool, 'isReady' | 'device' | 'size'>;
  scheduler: Scheduler;
  outputs: OutputFiles;
  billing: Billing;
  metrics: Metrics;
  disk: Pick<DiskGuard, 'state'>;
  /** False once shutdown began: new jobs are refused with 503 `not_ready`. */
  accepting: boolean;
}
