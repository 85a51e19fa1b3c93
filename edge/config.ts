import { z } from 'zod';
import { edgeSecretRule } from '../shared/edge-signature.ts';

/** The Worker's bindings as wrangler provides them (vars, secrets, Durable Objects, limiters). */
export interface Bindings {
  ORIGIN_URL?: string;
  ORIGIN_URLS?: string;
  EDGE_SIGNING_SECRET?: string;
  STRIPE_WEBHOOK_SECRET?: string;
  /** The origins' JWT_SECRET: sessions and API keys are counted by user only with it. */
  JWT_SECRET?: string;
  CORS_ORIGINS?: string;
  RATE_LIMIT_ENABLED?: string;
  RATE_LIMIT_JOBS?: string;
  RATE_LIMIT_AUTH?: string;
  RATE_LIMIT_DEFAULT?: string;
  RATE_LIMIT_UPGRADES?: string;
  BODY_LIMIT_BYTES?: string;
  UPLOAD_LIMIT_BYTES?: string;
  ORIGIN_TIMEOUT_MS?: string;
  ORIGIN_RETRY_AFTER_MS?: string;
  ORIGIN_HEALTH_TIMEOUT_MS?: string;
  RATE_LIMITER?: DurableObjectNamespace<import('./middleware/rate-limit/limiter.ts').RateLimiter>;
  /** The default budget's counter (`[[ratelimits]]`): its `simple` is RATE_LIMIT_DEFAULT. */
  RATE_LIMITER_DEFAULT?: RateLimit;
  ASSETS?: Fetcher;
  /** Job outputs, when origins keep them here (`OUTPUT_STORE=edge` at the origins). */
  OUTPUTS?: R2Bucket;
  OUTPUT_MAX_BYTES?: string;
}

const budget = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .pipe(z.string().regex(/^\d+\/\d+$/, 'write it as <requests>/<seconds>, e.g. 10/60'))
    .transform((s) => {
      const [requests = 0, seconds = 1] = s.split('/').map(Number);
      return { requests, seconds };
    })
    .refine((b) => b.requests >= 1 && b.seconds >= 1, 'both numbers must be at least 1');

/** The Workers Rate Limiting binding counts over 10 or 60 seconds, nothing else. */
const bindingPeriods = [10, 60];
const bindingBudget = (fallback: string) =>
  budget(fallback).refine(
    (b) => bindingPeriods.includes(b.seconds),
    'the rate-limiting binding counts over 10 or 60 seconds only: write <requests>/10 or ' +
      '<requests>/60, the same as [[ratelimits]] RATE_LIMITER_DEFAULT in wrangler.toml',
  );

const intString = (fallback: number, min: number) =>
  z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(min)).default(fallback);

/** `a, b,c` → `['a', 'b', 'c']`. */
const commaList = z.string().transform((s) =>
  s
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);

const bareOrigin = z
  .url()
  .refine((u) => new URL(u).pathname === '/', 'must be a bare origin, with no path');

const configSchema = z
  .object({
    ORIGIN_URL: bareOrigin.optional(),
    ORIGIN_URLS: commaList
      .pipe(
        z
          .array(bareOrigin)
          .min(1, 'list at least one origin')
          .refine(
            (list) => new Set(list.map((u) => new URL(u).origin)).size === list.length,
            'lists an origin twice',
          ),
      )
      .optional(),
    EDGE_SIGNING_SECRET: z.string().refine(edgeSecretRule.check, edgeSecretRule.message),
    STRIPE_WEBHOOK_SECRET: z.string().startsWith('whsec_').optional(),
    // The origins' rule (origin/env.ts): the edge verifies what they sign with it.
    JWT_SECRET: z
      .string()
      .refine((s) => new TextEncoder().encode(s).length >= 32, 'must be at least 32 bytes')
      .optional(),
    CORS_ORIGINS: z.string().default('').pipe(commaList).pipe(z.array(z.url())),
    RATE_LIMIT_ENABLED: z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true'),
    RATE_LIMIT_JOBS: budget('10/60'),
    RATE_LIMIT_AUTH: budget('10/60'),
    RATE_LIMIT_DEFAULT: bindingBudget('300/60'),
    RATE_LIMIT_UPGRADES: budget('30/60'),
    BODY_LIMIT_BYTES: intString(64 * 1024, 256),
    /** An upload's body (`POST /v1/files`): the origins' FILE_MAX_AUDIO_BYTES, by default 20 MiB. */
    UPLOAD_LIMIT_BYTES: intString(20 * 1024 * 1024, 1024),
    ORIGIN_TIMEOUT_MS: intString(30_000, 100),
    ORIGIN_RETRY_AFTER_MS: intString(5_000, 100),
    ORIGIN_HEALTH_TIMEOUT_MS: intString(2_000, 100),
    /** The largest output an origin may store in the bucket (Workers bodies: 100 MB on most plans). */
    OUTPUT_MAX_BYTES: intString(100 * 1024 * 1024, 1),
    RATE_LIMITER: z.custom<NonNullable<Bindings['RATE_LIMITER']>>(
      (v) => typeof (v as { idFromName?: unknown } | undefined)?.idFromName === 'function',
      'the Durable Object binding is missing',
    ),
    RATE_LIMITER_DEFAULT: z.custom<RateLimit>(
      (v) => typeof (v as { limit?: unknown } | undefined)?.limit === 'function',
      'the rate-limiting binding is missing ([[ratelimits]] in wrangler.toml)',
    ),
  })
  // One origin or a list, never both: two places that disagree would leave the edge guessing.
  .superRefine((c, ctx) => {
    if (c.ORIGIN_URL !== undefined && c.ORIGIN_URLS !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['ORIGIN_URLS'],
        message: 'set ORIGIN_URL (one origin) or ORIGIN_URLS (several), not both',
      });
    } else if (c.ORIGIN_URL === undefined && c.ORIGIN_URLS === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['ORIGIN_URL'],
        message: 'set ORIGIN_URL (one origin) or ORIGIN_URLS (several)',
      });
    }
  })
  .transform(({ ORIGIN_URL, ORIGIN_URLS, ...rest }) => ({
    ...rest,
    /** The origins requests are spread over, in the configured order: one at least. */
    // Exactly one of the two is set (checked above).
    origins: ORIGIN_URLS ?? [ORIGIN_URL as string],
  }));

export type EdgeConfig = z.infer<typeof configSchema>;
export type Budget = EdgeConfig['RATE_LIMIT_DEFAULT'];

export type ConfigResult = { ok: true; config: EdgeConfig } | { ok: false; problems: string[] };

// Bindings are fixed for an isolate's life: validate each bindings object once.
const cache = new WeakMap<object, ConfigResult>();

/**
 * Validates the bindings; a bad or missing one is named, never guessed.
 *
 * @example
 * const result = readConfig(c.env);
 * if (!result.ok) return misconfigured(result.problems);
 */
export function readConfig(env: Bindings): ConfigResult {
  const known = cache.get(env);
  if (known) return known;
  const parsed = configSchema.safeParse(
    Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')),
  );
  const result: ConfigResult = parsed.success
    ? { ok: true, config: parsed.data }
    : { ok: false, problems: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) };
  cache.set(env, result);
  return result;
}
