import { randomUUID } from 'node:crypto';
import { delimiter, join } from 'node:path';
import { fixtureModels, repoRoot } from '../../test/helpers/paths.ts';

/**
 * The environment of a benchmark origin: the `noop` model (and the test fixtures' `steps`,
 * which sleeps through its steps), `threads` pool threads, a queue (and a per-user cap) that
 * never refuses, sockets that may subscribe (and be replayed) as fast as their jobs end (a
 * bench client ends a job every few ms, past the per-socket limits meant for people: at the
 * defaults its subscriptions were refused and it waited forever), and only warnings logged.
 */
export function benchOriginEnv(threads: number): Record<string, string> {
  return {
    MODEL_DIR: [join(repoRoot, 'bench/models'), fixtureModels].join(delimiter),
    POOL_THREADS: String(threads),
    QUEUE_LIMIT: '100000',
    USER_JOB_LIMIT: '100000',
    FREE_GRANT_CREDITS: '1000000',
    WS_MAX_MESSAGES_PER_S: '100000',
    WS_REPLAY_EVENTS_PER_S: '1000000',
    LOG_LEVEL: 'warn',
  };
}

/** What an origin needs to run on the PostgreSQL database at `url`. */
export function postgresEnv(url: string): Record<string, string> {
  return { DATABASE_URL: url, JWT_SECRET: `bench-jwt-secret-${randomUUID()}` };
}
