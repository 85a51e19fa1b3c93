import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

/**
 * Three projects. `node`: unit, integration and end-to-end suites in forked Node processes
 * (integration and e2e start real origins with inference pools, and real `wrangler dev`).
 * `edge`: the Worker in real workerd, its bindings set here, forwarding to an echo origin
 * that the project's global setup starts. `chaos`: the reliability suite (`test:chaos`).
 */
export default defineConfig({
  test: {
    // Two cores: the suites start real processes.
    maxWorkers: 2,
    // The JSON report gives CI its closing `N passed, N failed` line (scripts/test-summary.ts).
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    projects: [
      {
        test: {
          name: 'node',
          include: [
            'test/unit/**/*.test.ts',
            'test/integration/**/*.test.ts',
            'test/e2e/**/*.test.ts',
          ],
          pool: 'forks',
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        // `npm run test:chaos` (not part of `npm test`): kills, floods and abuses real
        // processes, then prints the figures every suite recorded.
        test: {
          name: 'chaos',
          include: ['test/chaos/**/*.test.ts'],
          pool: 'forks',
          testTimeout: 180_000,
          hookTimeout: 120_000,
          globalSetup: ['test/chaos/figures-table.ts'],
        },
      },
      {
        // stripe's ESM build ships source maps without their sources: one warning per module.
        logLevel: 'error',
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                ORIGIN_URL: inject('echoOrigin'),
                // Fresh for each run; the echo origins check signatures with it.
                EDGE_SIGNING_SECRET: inject('edgeSigningSecret'),
                STRIPE_WEBHOOK_SECRET: 'whsec_edge_test_0123456789abcdef',
                JWT_SECRET: 'edge-test-jwt-secret-0123456789abcdef',
                CORS_ORIGINS: 'https://app.overture.test, https://admin.overture.test',
                RATE_LIMIT_ENABLED: 'true',
                RATE_LIMIT_JOBS: '3/60',
                RATE_LIMIT_AUTH: '4/60',
                RATE_LIMIT_DEFAULT: '20/60',
                RATE_LIMIT_UPGRADES: '3/60',
                BODY_LIMIT_BYTES: '1024',
                ORIGIN_TIMEOUT_MS: '5000',
              },
              // RATE_LIMIT_DEFAULT's counter, set to the same numbers (the binding counts its own).
              ratelimits: {
                RATE_LIMITER_DEFAULT: { namespace_id: '1001', simple: { limit: 20, period: 60 } },
              },
            },
          })),
        ],
        test: {
          name: 'edge',
          include: ['test/edge/**/*.test.ts'],
          globalSetup: ['test/helpers/edge-global-setup.ts'],
          testTimeout: 15_000,
          // One module graph per worker: stripe loads once, not once per file. Files share no
          // state that matters: each test spends rate limits under its own client IP or token.
          isolate: false,
        },
      },
    ],
  },
});
