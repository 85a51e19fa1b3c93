import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { unstable_readConfig } from 'wrangler';
import { wranglerConfigCounting } from '../../../scripts/lib/wrangler-config.ts';
import { repoRoot } from '../../helpers/paths.ts';

const environments = [undefined, 'staging', 'production'];

/** What these tests read of a wrangler config, as wrangler reads it. */
interface Read {
  main?: string;
  vars: Record<string, unknown>;
  assets?: { directory?: string };
  durable_objects: unknown;
  ratelimits: { name: string; namespace_id: string; simple: { limit: number; period: number } }[];
}
const read = (config: string, env?: string): Read =>
  unstable_readConfig({ config, env }, { hideWarnings: true });
const defaultLimiter = (config: Read) =>
  config.ratelimits.find((r) => r.name === 'RATE_LIMITER_DEFAULT');
/** The budget a config's default-budget rate-limiting binding counts, as `<requests>/<seconds>`. */
const counted = (config: Read) => {
  const binding = defaultLimiter(config);
  return binding && `${binding.simple.limit}/${binding.simple.period}`;
};

describe("wrangler.toml's default budget", () => {
  it.each(environments)(
    'is what the rate-limiting binding counts, in every environment (%s)',
    (env) => {
      const config = read(join(repoRoot, 'wrangler.toml'), env);
      expect(counted(config)).toBe(config.vars.RATE_LIMIT_DEFAULT);
    },
  );

  it('is counted apart in each environment (bindings of one namespace_id share counters)', () => {
    const ids = environments.map(
      (env) => defaultLimiter(read(join(repoRoot, 'wrangler.toml'), env))?.namespace_id,
    );
    expect(new Set(ids).size).toBe(environments.length);
  });
});

describe('wranglerConfigCounting', () => {
  const dir = () => {
    const made = mkdtempSync(join(tmpdir(), 'wrangler-config-'));
    onTestFinished(() => rmSync(made, { recursive: true, force: true }));
    return made;
  };

  it('writes wrangler.toml counting another default budget, its paths absolute', () => {
    const path = wranglerConfigCounting('100000/10', dir());
    expect(path).toBeDefined();
    const config = read(path ?? '');
    expect(counted(config)).toBe('100000/10');
    expect(config.main).toBe(join(repoRoot, 'edge/index.ts'));
    expect(config.assets?.directory).toBe(join(repoRoot, 'dist/ui'));
    // Everything else is the root's.
    const root = read(join(repoRoot, 'wrangler.toml'));
    expect(config.durable_objects).toEqual(root.durable_objects);
    expect(config.vars).toEqual(root.vars);
  });

  it('writes nothing for a budget the binding cannot count', () => {
    expect(wranglerConfigCounting('300/3600', dir())).toBeUndefined();
    expect(wranglerConfigCounting('ten', dir())).toBeUndefined();
  });
});
