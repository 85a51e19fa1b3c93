/**
 * `node scripts/complete-lockfile.ts`, after any `npm install` that changes the lockfile.
 *
 * `npm ci` refuses a lockfile that lacks an entry for any optional dependency, even one
 * for another platform that it would never install here. This machine's registry does not
 * serve every platform build of some packages (workerd's macOS and Windows binaries, for
 * example), so `npm install` leaves those entries out. This adds an entry (version and
 * `optional`, nothing else) for each such package, where npm's resolution finds it first; `npm ci` then accepts the lockfile and, as for any optional package it cannot fetch
 * or that does not fit this platform, skips it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface LockPackage {
  version?: string;
  optional?: boolean;
  dev?: boolean;
  optionalDependencies?: Record<string, string>;
}

const file = join(import.meta.dirname, '..', 'package-lock.json');
const lock = JSON.parse(readFileSync(file, 'utf8')) as { packages: Record<string, LockPackage> };
const packages = lock.packages;

/** The folders npm looks in for a dependency of the package at `location`, nearest first. */
function lookupFolders(location: string): string[] {
  const folders: string[] = [];
  let at = location;
  for (;;) {
    folders.push(at === '' ? 'node_modules' : `${at}/node_modules`);
    const cut = at.lastIndexOf('/node_modules/');
    if (at === '') break;
    at = cut === -1 ? '' : at.slice(0, cut);
  }
  return folders;
}

let added = 0;
for (const [location, pkg] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    // Platform builds are pinned to the exact version of their parent; ranges are not ours.
    if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(version)) continue;
    // Walk outwards as resolution does: a matching version ends the search; another version
    // of the name blocks it, so the entry goes in the folder just inside that one.
    let folder: string | undefined;
    let found = false;
    for (const candidate of lookupFolders(location)) {
      const there = packages[`${candidate}/${name}`];
      if (there?.version === version) found = true;
      if (there) break;
      folder = candidate;
    }
    if (found || !folder) continue;
    packages[`${folder}/${name}`] = { version, ...(pkg.dev ? { dev: true } : {}), optional: true };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a < b ? -1 : 1)));
// The root entry ("") must stay first.
const root = lock.packages[''];
if (root) lock.packages = { '': root, ...lock.packages };
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} entries for optional packages of other platforms`);
