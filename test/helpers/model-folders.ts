import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A model folder under `root` whose processor is `source` (an ES module), with a given
 * warm-up input, and `manifest` fields over the defaults (an input of an optional string
 * `markers`, a text output, no ONNX session). Answers the folder.
 *
 * @example
 * jsModel(root, 'slow', 'export default { async run() { return { bytes: new Uint8Array([1]) }; } };', {});
 */
export function jsModel(
  root: string,
  id: string,
  source: string,
  warmup: Record<string, unknown>,
  manifest: Record<string, unknown> = {},
): string {
  const dir = join(root, id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      id,
      version: '1',
      cost: 0,
      input: { type: 'object', properties: { markers: { type: 'string' } } },
      output: { contentType: 'text/plain', extension: 'txt' },
      processor: 'processor.mjs',
      warmup,
      ...manifest,
    }),
  );
  writeFileSync(join(dir, 'processor.mjs'), source);
  return dir;
}
