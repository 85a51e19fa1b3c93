import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GroupSync } from '../lib/group-sync.ts';

const tempPrefix = '.tmp-';

export interface OutputFiles {
  readonly dir: string;
  /**
   * Writes a job's output atomically: temporary file, fsync, rename, fsync of the folder.
   * Once it resolves the file is complete on disk, so a job marked `succeeded` after it
   * always has a readable output. Returns the file name.
   */
  write(jobId: string, extension: string, bytes: Uint8Array): Promise<string>;
  path(file: string): string;
  remove(file: string): Promise<void>;
  /**
   * Removes temporary files a killed process left behind: all of them, or (when other
   * processes may be writing into the same folder) those last written before `before`.
   */
  removeTemporary(before?: number): void;
}

/** @example const outputs = outputFiles(join(env.DATA_DIR, 'outputs')); */
export function outputFiles(dir: string): OutputFiles {
  mkdirSync(dir, { recursive: true });
  // Renames become durable with the folder: jobs finishing together share its fsync.
  const folder = new GroupSync(dir, 'r');
  return {
    dir,
    async write(jobId, extension, bytes) {
      const file = `${jobId}.${extension}`;
      const temp = join(dir, `${tempPrefix}${file}-${randomBytes(4).toString('hex')}`);
      // flush: the data is fsynced before the file is closed.
      await writeFile(temp, bytes, { flag: 'wx', mode: 0o640, flush: true });
      await rename(temp, join(dir, file));
      await folder.sync();
      return file;
    },
    path: (file) => join(dir, file),
    remove: (file) => rm(join(dir, file), { force: true }),
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
