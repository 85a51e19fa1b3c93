/**
 * The image (no Docker engine on this machine to build it): its final stage copies every
 * file the origin and the operator's admin command import, so
 * `docker exec <container> node scripts/admin.ts grant <email>` runs in it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support.ts';

/** The sources the image's last stage copies from the build context, as repository paths. */
function copiedPaths(): string[] {
  const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  return [...finalStage.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) =>
    (m[1] ?? '').split(' ').map((path) => normalize(path).replace(/\/$/, '')),
  );
}

/** Every repository file `entry` imports, itself included, following relative imports. */
function importClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(join(repoRoot, file), 'utf8');
    for (const [, spec] of source.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = relative(repoRoot, join(repoRoot, dirname(file), spec ?? ''));
      if (existsSync(join(repoRoot, target))) visit(target);
    }
  };
  visit(entry);
  return seen;
}

describe('the origin image', () => {
  it.each(['origin/main.ts', 'scripts/admin.ts'])('holds %s and everything it imports', (entry) => {
    const copied = copiedPaths();
    const inImage = (file: string) =>
      copied.some((path) => file === path || file.startsWith(`${path}/`));
    const files = [...importClosure(entry)];
    expect(files.length).toBeGreaterThan(10);
    expect(files.filter((file) => !inImage(file))).toEqual([]);
  });
});
