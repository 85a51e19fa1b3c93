import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GroupSync } from '../lib/group-sync.ts';
import type { OutputStore } from './output-store.ts';

const tempPrefix = '.tmp-';

/**
 * Outputs as files in one folder. A write is atomic: temporary file, fsync, rename, fsync of
 * the folder; once it resolves the file is complete on disk. The key is the file name.
 */
export interface OutputFiles extends OutputStore {
  readonly dir: string;
  path(file: string): string;
}

/** @example const outputs = outputFiles(join(env.DATA_DIR, 'outputs')); */
export function outputFiles(dir: string): OutputFiles {
  mkdirSync(dir, { recursive: true });
  // Renames become durable with the folder: jobs finishing together share its fsync.
  const folder = new GroupSync(dir, 'r');
  return {
    dir,
    async write(name, extension, bytes) {
      const file = `${name}.${extension}`;
      const temp = join(dir, `${tempPrefix}${file}-${randomBytes(4).toString('hex')}`);
      // flush: the data is fsynced before the file is closed.
      await writeFile(temp, bytes, { flag: 'wx', mode: 0o640, flush: true });
      await rename(temp, join(dir, file));
      await folder.sync();
      return file;
    },
    path: (file) => join(dir, file),
    async locate(file) {
      const path = join(dir, file);
      const size = await stat(path).then(
        (s) => s.size,
        () => undefined,
      );
      return size === undefined ? undefined : { at: 'file', path, size };
    },
    remove: (file) => rm(join(dir, file), { force: true }),
    async read(file) {
      return readFile(join(dir, file)).then(
        (bytes) => new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        (error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return undefined;
          throw error;
        },
      );
    },
    removeTemporary(before = Number.POSITIVE_INFINITY) {
      for (const name of readdirSync(dir)) {
        if (!name.startsWith(tempPrefix)) continue;
        const path = join(dir, name);
        const written = statSync(path, { throwIfNoEntry: false })?.mtimeMs;
        if (written !== undefined && written < before) rmSync(path, { force: true });
      }
    },
  };
}
