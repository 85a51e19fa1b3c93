import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** `<requests>/<seconds>` with the seconds the rate-limiting binding counts over (10 or 60). */
const bindingBudget = /^(\d+)\/(10|60)$/;

/** Replaces the one match of `pattern` in `text`, or throws: wrangler.toml changed shape. */
function replaceOnce(text: string, pattern: RegExp, replace: (...groups: string[]) => string) {
  const matches = text.match(new RegExp(pattern.source, `${pattern.flags}g`)) ?? [];
  if (matches.length !== 1) {
    throw new Error(`wrangler.toml: expected one ${pattern}, found ${matches.length}`);
  }
  return text.replace(pattern, (_, ...groups: string[]) => replace(...groups));
}

/**
 * A copy of the root's `wrangler.toml` whose default-budget rate-limiting binding
 * (`RATE_LIMITER_DEFAULT`, top level) counts `budget` (`<requests>/<seconds>`), written as
 * `dir/wrangler.toml` with its paths made absolute; answers its path, for `wrangler dev
 * --config`. `--var RATE_LIMIT_DEFAULT:…` changes the budget the edge states, not the limit
 * the binding counts, which is configuration: a process that sets one sets both through
 * this. Undefined for a budget the binding cannot count (not 10 or 60 seconds): the edge is
 * then left to refuse RATE_LIMIT_DEFAULT itself, naming it.
 *
 * @example
 * const config = wranglerConfigCounting('100000/60', join(root, '.wrangler', 'test-8787'));
 * if (config) args.push('--config', config);
 */
export function wranglerConfigCounting(
  budget: string,
  dir: string,
  root = join(import.meta.dirname, '..', '..'),
): string | undefined {
  const parts = bindingBudget.exec(budget);
  if (!parts) return undefined;
  const [, limit, period] = parts;
  let text = readFileSync(join(root, 'wrangler.toml'), 'utf8');
  text = replaceOnce(text, /^main = "([^"]+)"$/m, (path) => `main = "${join(root, path)}"`);
  text = replaceOnce(
    text,
    /^directory = "([^"]+)"$/m,
    (path) => `directory = "${join(root, path)}"`,
  );
  text = replaceOnce(
    text,
    /^(name = "RATE_LIMITER_DEFAULT"\nnamespace_id = "\d+"\n)simple = \{[^}]*\}$/m,
    (head) => `${head}simple = { limit = ${limit}, period = ${period} }`,
  );
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'wrangler.toml');
  writeFileSync(path, text);
  return path;
}
