import { loadEnv } from './env.ts';
import { ModelFolderError } from './inference/models/registry.ts';
import { PoolPlanError } from './inference/pool-plan.ts';
import { startOrigin } from './start.ts';

/** The origin process: validate the environment, start, and stop on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let env: ReturnType<typeof loadEnv>;
  try {
    env = loadEnv(process.env);
  } catch (error) {
    console.error(`origin: ${(error as Error).message}`);
    process.exit(2);
  }
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  try {
    origin = await startOrigin(env);
  } catch (error) {
    const message =
      error instanceof ModelFolderError || error instanceof PoolPlanError
        ? error.message
        : String(error);
    console.error(`origin: failed to start: ${message}`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    origin.services.logger.info({ signal }, 'stopping');
    origin.stop().then(
      () => process.exit(code),
      (error: unknown) => {
        origin.services.logger.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  // A model that fails to load ends the origin (exit 1), but as a stop does: the other
  // models' jobs already running finish within the grace, or go back to the queue.
  origin.failed.catch(() => stop('a model failed to load', 1));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

await main();
