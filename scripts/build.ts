/**
 * `npm run build`: bundles the web UI (edge/ui) into dist/ui, which the edge Worker serves
 * as static assets. Built output is never committed.
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const out = join(root, 'dist/ui');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: [join(root, 'edge/ui/src/main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
});
for (const file of ['index.html', 'styles.css'])
  copyFileSync(join(root, 'edge/ui', file), join(out, file));
// The charts' own stylesheet (positions of the canvas and cursor layers), as uPlot ships it.
copyFileSync(join(root, 'node_modules/uplot/dist/uPlot.min.css'), join(out, 'uplot.css'));
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + (o.bytes ?? 0), 0);
console.log(`build: dist/ui (app.js and its map: ${(bytes / 1024).toFixed(1)} KiB)`);
