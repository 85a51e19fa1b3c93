import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fixtureModels, repoRoot } from './paths.ts';

const shipped = join(repoRoot, 'models/tone-diffusion');

/**
 * The default model, made holdable for the browser tests: each model has a pool of its own,
 * so only a tone-diffusion job can hold tone-diffusion's thread while the page's job waits in
 * the queue. This folder is tone-diffusion itself (its manifest, its ONNX files, its
 * processor, run as shipped) with one more input, `holdMs`: a job that names it steps through
 * that many milliseconds first, 50 ms a step (a cancel stops it at the next), then makes its
 * music. The form never sends it; the tests' blocker (`occupyThePool`) does.
 *
 * Answers a MODEL_DIR: this folder's parent, then the test fixtures. Made once per process,
 * in a temporary folder removed when the process exits.
 */
export function holdableModelDir(): string {
  const root = mkdtempSync(join(tmpdir(), 'overture-holdable-'));
  process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'tone-diffusion');
  mkdirSync(dir);
  const manifest = JSON.parse(readFileSync(join(shipped, 'manifest.json'), 'utf8'));
  manifest.input.properties.holdMs = { type: 'integer', minimum: 0, maximum: 600_000 };
  manifest.processor = 'holdable.mjs';
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  for (const file of Object.values(manifest.sessions as Record<string, string>)) {
    copyFileSync(join(shipped, file), join(dir, file));
  }
  const real = pathToFileURL(join(shipped, 'processor.ts')).href;
  writeFileSync(
    join(dir, 'holdable.mjs'),
    `import { setTimeout as sleep } from 'node:timers/promises';
     import shipped from ${JSON.stringify(real)};
     export default {
       async run({ holdMs = 0, ...input }, ctx) {
         for (let held = 50; held <= holdMs; held += 50) {
           await sleep(50);
           ctx.step(held, holdMs);
         }
         return shipped.run(input, ctx);
       },
     };`,
  );
  return [root, fixtureModels].join(delimiter);
}
