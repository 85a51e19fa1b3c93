import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { edgeSecretRule } from '../shared/edge-signature.ts';
import { defaultMaxProgressDeliveries } from './jobs/job-events.ts';

const cores = availableParallelism();

const flag = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1')
  .default(false);

const unitMs: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** A duration such as `90s`, `30m`, `72h` or `3d`, in milliseconds. */
const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .pipe(z.string().regex(/^\d+[smhd]$/, 'a number and a unit: s, m, h or d (e.g. 3d)'))
    .transform((s) => Number(s.slice(0, -1)) * (unitMs[s.slice(-1)] ?? 1));

const byteUnits: Record<string, number> = {
  '': 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};
/** `8GB` → 8e9, `512MiB` → 536870912, `1000` → 1000. */
function parseBytes(text: string): number {
  const [, number = '0', unit = ''] = /^([\d.]+)\s*([a-z]*)$/i.exec(text) ?? [];
  return Math.round(Number(number) * (byteUnits[unit.toLowerCase()] ?? 1));
}

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max);

/** Every setting of the origin, with its default. `.env.example` lists the same. */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(0, 65535).default(8788),
  DATA_DIR: z.string().min(1).default('./data'),
  /**
   * `postgres://…`: origins share this PostgreSQL database (a cluster). Unset: one origin on
   * an embedded SQLite file in DATA_DIR.
   */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// or postgresql:// URL')
    .optional(),
  /** Connections each origin's pool holds (the event listener holds one more). */
  DB_POOL_SIZE: int(1, 200).default(10),
  /** One or more folders of models, separated by the platform's path delimiter (`:`). */
  MODEL_DIR: z.string().min(1).default('./models'),
  /**
   * Threads of a model's pool when neither MODELS_FILE nor its manifest says: CPU models with
   * ONNX sessions share them (`planPools`); a model without sessions takes them all.
   */
  POOL_THREADS: int(1, cores).default(cores),
  /** The device of a model's pool when neither MODELS_FILE nor its manifest says. */
  EXECUTION_PROVIDER: z.enum(['cpu', 'cuda']).default('cpu'),
  /** A JSON file of pool settings per model (`deploymentFileSchema`), over their manifests'. */
  MODELS_FILE: z.string().min(1).optional(),
  /**
   * The memory the models' pools may take together, estimated before they load (`planPools`):
   * a deployment over it is refused at start. Bytes, or with a unit: `512MB`, `8GB`, `8GiB`.
   */
  MODEL_MEMORY_BUDGET: z
    .string()
    .regex(/^\d+(\.\d+)?\s*([KMGT]i?B)?$/i, 'bytes, or a number and a unit: 512MB, 8GB, 8GiB')
    .transform(parseBytes)
    .optional(),
  /** Queued jobs of every user together: the box's backstop (503 `overloaded` past it). */
  QUEUE_LIMIT: int(1).default(100),
  /**
   * A user's jobs queued or holding a thread (a running job, or one canceled while running
   * until its task has left the thread): past it, 429 `too_many_jobs`.
   */
  USER_JOB_LIMIT: int(1).default(20),
  /** A job still queued this long after its creation ends canceled `deadline_exceeded`; 0: never. */
  MAX_QUEUE_WAIT_MS: int(0).default(3_600_000),
  JOB_TIMEOUT_MS: int(100).default(120_000),
  /** How long a canceled or timed-out task may keep its thread before the thread is replaced. */
  ABORT_GRACE_MS: int(0).default(2_000),
  MAX_ATTEMPTS: int(1, 100).default(3),
  /**
   * A running job's claim lasts this long unless renewed (every third of it): past it, any
   * origin takes the job back. The worst pause a job sees when its origin dies is about
   * LEASE_MS + LEASE_SWEEP_MS.
   */
  LEASE_MS: int(300).default(10_000),
  /** How often each origin looks for claims whose lease ended. */
  LEASE_SWEEP_MS: int(100).default(2_000),
  /** This origin's name in claims and logs; a unique one is made at start when unset. */
  ORIGIN_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash, underscore; at most 64')
    .optional(),
  PROGRESS_INTERVAL_MS: int(0).default(100),
  BODY_LIMIT_BYTES: int(256).default(64 * 1024),
  JWT_SECRET: z
    .string()
    .refine((s) => new TextEncoder().encode(s).length >= 32, 'must be at least 32 bytes')
    .optional(),
  JWT_TTL_SECONDS: int(60).default(7 * 24 * 3600),
  /** The secret the edge signs forwarded requests with (shared with the Worker). */
  EDGE_SIGNING_SECRET: z.string().refine(edgeSecretRule.check, edgeSecretRule.message).optional(),
  /** `off` lets requests in without an edge signature: development only, refused in production. */
  EDGE_SIGNATURE_CHECK: z.enum(['on', 'off']).default('on'),
  /** How old a signed request may be: the replay window. */
  EDGE_SIGNATURE_MAX_AGE_S: int(1, 600).default(30),
  /** Credits that a new account receives in free billing mode (no Stripe keys). */
  FREE_GRANT_CREDITS: int(0).default(20),
  /** Stripe mode when both are set; free mode otherwise. */
  STRIPE_SECRET_KEY: z.string().startsWith('sk_').optional(),
  STRIPE_WEBHOOK_SECRET: z.string().startsWith('whsec_').optional(),
  /** Where stripe-node sends API calls (a local double in tests); Stripe's API by default. */
  STRIPE_API_URL: z.url().optional(),
  /** The public address of the UI, for Checkout's success and cancel URLs. */
  PUBLIC_URL: z.url().default('http://127.0.0.1:8787'),
  /** A JSON file of credit packs; `origin/billing/default-packs.json` otherwise. */
  BILLING_PACKS_FILE: z.string().min(1).optional(),
  WS_PING_INTERVAL_MS: int(50).default(30_000),
  WS_AUTH_TIMEOUT_MS: int(50).default(5_000),
  /** A socket whose unsent bytes pass this is closed (1013) rather than growing memory. */
  WS_MAX_BUFFERED_BYTES: int(1024).default(1024 * 1024),
  WS_MAX_MESSAGE_BYTES: int(64, 64 * 1024).default(4096),
  WS_MAX_SOCKETS_PER_USER: int(1).default(20),
  WS_MAX_SUBSCRIPTIONS: int(1).default(100),
  /** Bad messages a socket may send before it is closed (1008). */
  WS_ERROR_BUDGET: int(0).default(5),
  /** How often the hub checks the jobs its sockets follow for events no notification brought. */
  WS_RESYNC_MS: int(50).default(2_000),
  /**
   * How often the hub checks every socket's credential again: a session ended (sign-out,
   * password change) or a key revoked on another origin, or a token that expired, closes its
   * sockets (4401) within this. On the origin that ended it, at once.
   */
  WS_AUTH_RECHECK_MS: int(50).default(5_000),
  /** Messages a socket may send per second (a burst of a full resubscribe always fits); past it 1008. */
  WS_MAX_MESSAGES_PER_S: int(1).default(20),
  /**
   * Stored events a socket may be replayed (`since`, gaps) at once, refilled at
   * WS_REPLAY_EVENTS_PER_S; a socket that asks for more is closed (1008).
   */
  WS_MAX_REPLAY_EVENTS: int(1).default(5_000),
  WS_REPLAY_EVENTS_PER_S: int(1).default(200),
  /** Development only: lets webhooks use http and reach loopback/private addresses; refused in production. */
  WEBHOOK_ALLOW_INSECURE: flag,
  /**
   * The whole of one attempt (DNS, connect, TLS, headers, the answer's body): past it the
   * attempt ends as a timeout, however slowly the receiver keeps sending.
   */
  WEBHOOK_TIMEOUT_MS: int(100).default(10_000),
  WEBHOOK_MAX_ATTEMPTS: int(1, 50).default(8),
  WEBHOOK_RETRY_BASE_MS: int(10).default(5_000),
  /** Attempts this origin has in flight at once, each on its own: a slow one holds one slot. */
  WEBHOOK_CONCURRENCY: int(1, 256).default(16),
  /** Attempts one user may have in flight at once, across the cluster. */
  WEBHOOK_MAX_IN_FLIGHT_PER_USER: int(1, 64).default(4),
  /** `progress` deliveries one job may write, one per passed 1/N of its progress; 0 sends none. */
  WEBHOOK_MAX_PROGRESS_PER_JOB: int(0, 100).default(defaultMaxProgressDeliveries),
  /** How often each origin looks for due deliveries it was not told of (another origin's). */
  WEBHOOK_POLL_MS: int(50).default(2_000),
  /** Prometheus metrics listen here, apart from the API (never forwarded by the edge). */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_PORT: int(0, 65535).default(9464),
  /** On SIGTERM/SIGINT, running jobs get this long to finish before they are re-queued. */
  SHUTDOWN_GRACE_MS: int(0).default(20_000),
  /**
   * Where outputs are kept: `disk` (DATA_DIR/outputs, served by this origin: one origin) or
   * `edge` (the edge's R2 bucket, served by the edge: a cluster, where any origin may be asked).
   */
  OUTPUT_STORE: z.enum(['disk', 'edge']).default('disk'),
  /** The edge as origins reach it, for OUTPUT_STORE=edge (its internal output route). */
  EDGE_URL: z.url().optional(),
  /** An output the edge cannot take is retried this long; then the job fails `internal`. */
  OUTPUT_UPLOAD_DEADLINE_MS: int(100).default(30_000),
  /** How long outputs are kept; the job keeps its record after (`outputExpired`, 410). */
  OUTPUT_TTL: duration('3d'),
  /**
   * Outputs up to this size are kept in the database, written with the job's end (no file,
   * fsync and rename of their own); larger ones go to OUTPUT_STORE. 0 keeps none there.
   */
  INLINE_OUTPUT_MAX_BYTES: int(0, 1024 * 1024).default(64 * 1024),
  RETENTION_SWEEP_MS: int(1_000).default(600_000),
  /** An uploaded audio file (`POST /v1/files`) may have at most this many bytes: past it, 413. */
  FILE_MAX_AUDIO_BYTES: int(1024, 512 * 1024 * 1024).default(20 * 1024 * 1024),
  /** How long an uploaded file is kept; then it is gone (404), and its bytes removed. */
  FILE_TTL: duration('7d'),
  /** Files one user may keep at once: past it, 429 `too_many_files`. */
  FILE_MAX_PER_USER: int(1, 100_000).default(50),
  /** Below either free-space threshold new jobs get 503 `disk_full` and health says degraded. */
  DISK_MIN_FREE_BYTES: int(0).default(512 * 1024 * 1024),
  DISK_MIN_FREE_PERCENT: z.coerce.number().min(0).max(100).default(5),
  DISK_CHECK_MS: int(100).default(5_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof envSchema>;

const envRules = envSchema.superRefine((env, ctx) => {
  if (env.EDGE_SIGNATURE_CHECK === 'on' && env.EDGE_SIGNING_SECRET === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['EDGE_SIGNING_SECRET'],
      message: 'required (or EDGE_SIGNATURE_CHECK=off, for local development only)',
    });
  }
  if (env.EDGE_SIGNATURE_CHECK === 'off' && env.NODE_ENV === 'production') {
    ctx.addIssue({
      code: 'custom',
      path: ['EDGE_SIGNATURE_CHECK'],
      message: 'must be on in production',
    });
  }
  if (env.WEBHOOK_ALLOW_INSECURE && env.NODE_ENV === 'production') {
    ctx.addIssue({
      code: 'custom',
      path: ['WEBHOOK_ALLOW_INSECURE'],
      message: 'must be false in production: it lets webhooks reach private addresses',
    });
  }
  if (env.ABORT_GRACE_MS >= env.LEASE_MS) {
    // A canceled job's claim is not renewed while its task stops: the sweep would release it
    // (and its user's cap) while the task still holds the thread.
    ctx.addIssue({
      code: 'custom',
      path: ['ABORT_GRACE_MS'],
      message: 'must be less than LEASE_MS',
    });
  }
  if (env.OUTPUT_STORE === 'edge' && env.EDGE_URL === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['EDGE_URL'],
      message: 'required with OUTPUT_STORE=edge',
    });
  }
  if (env.OUTPUT_STORE === 'edge' && env.EDGE_SIGNING_SECRET === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['EDGE_SIGNING_SECRET'],
      message: 'required with OUTPUT_STORE=edge: origins sign their uploads with it',
    });
  }
  if (env.DATABASE_URL !== undefined && env.JWT_SECRET === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['JWT_SECRET'],
      message: 'required with DATABASE_URL: every origin of a cluster must sign with one secret',
    });
  }
  if ((env.STRIPE_SECRET_KEY === undefined) !== (env.STRIPE_WEBHOOK_SECRET === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: [env.STRIPE_SECRET_KEY ? 'STRIPE_WEBHOOK_SECRET' : 'STRIPE_SECRET_KEY'],
      message: 'Stripe mode needs both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET',
    });
  }
});

/** The message of a failed parse: every bad variable, one a line. */
function invalid(error: z.ZodError): Error {
  const lines = error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  return new Error(`invalid environment:\n${lines.join('\n')}`);
}

const withoutBlanks = (source: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ''));

/**
 * Validates the environment once, at start. On a bad variable it throws an error whose
 * message names every bad variable, so `main` can print it and exit.
 *
 * @example
 * const env = loadEnv(process.env);
 */
export function loadEnv(source: Record<string, string | undefined>): Env {
  const parsed = envRules.safeParse(withoutBlanks(source));
  if (parsed.success) return parsed.data;
  throw invalid(parsed.error);
}

const storeSchema = envSchema.pick({
  DATA_DIR: true,
  DATABASE_URL: true,
  DB_POOL_SIZE: true,
  WEBHOOK_MAX_PROGRESS_PER_JOB: true,
});
export type StoreEnv = z.infer<typeof storeSchema>;

/**
 * Only the variables of the store: where it is (`DATABASE_URL`, else SQLite in `DATA_DIR`)
 * and what it writes by itself, validated as the origin validates them: for a command that opens the
 * origin's store beside it, without the secrets the origin itself needs.
 *
 * @example
 * const store = await openStore(loadStoreEnv(process.env), logger);
 */
export function loadStoreEnv(source: Record<string, string | undefined>): StoreEnv {
  const parsed = storeSchema.safeParse(withoutBlanks(source));
  if (parsed.success) return parsed.data;
  throw invalid(parsed.error);
}
