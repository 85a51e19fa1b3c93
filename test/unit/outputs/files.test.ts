import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outputFiles } from '../../../origin/outputs/files.ts';
import { tempDir } from '../support.ts';

describe('outputFiles', () => {
  it('creates its folder', () => {
    const dir = join(tempDir(), 'nested', 'outputs');
    outputFiles(dir);
    expect(statSync(dir).isDirectory()).toBe(true);
  });

  it('writes the complete file under <job id>.<extension> and leaves no temporary file', async () => {
    const outputs = outputFiles(tempDir());
    const bytes = randomBytes(64 * 1024);
    const file = await outputs.write('job_1', 'wav', bytes, 'application/octet-stream');
    expect(file).toBe('job_1.wav');
    expect(outputs.path(file)).toBe(join(outputs.dir, 'job_1.wav'));
    expect(readFileSync(outputs.path(file)).equals(bytes)).toBe(true);
    expect(readdirSync(outputs.dir)).toEqual(['job_1.wav']);
  });

  it('never shows a partial file under the final name while writing', async () => {
    const outputs = outputFiles(tempDir());
    const bytes = randomBytes(24 * 1024 * 1024);
    const final = join(outputs.dir, 'job_big.bin');
    let done = false;
    const writing = outputs
      .write('job_big', 'bin', bytes, 'application/octet-stream')
      .finally(() => {
        done = true;
      });
    const sizesSeen = new Set<number>();
    let looks = 0;
    while (!done) {
      if (existsSync(final)) sizesSeen.add(statSync(final).size);
      looks++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await writing;
    expect(looks).toBeGreaterThan(1);
    for (const size of sizesSeen) expect(size).toBe(bytes.byteLength);
    expect(readFileSync(final).equals(bytes)).toBe(true);
    expect(readdirSync(outputs.dir)).toEqual(['job_big.bin']);
  });

  it('replaces an earlier output of the same job whole', async () => {
    const outputs = outputFiles(tempDir());
    await outputs.write(
      'job_2',
      'txt',
      new TextEncoder().encode('a much longer first answer'),
      'application/octet-stream',
    );
    await outputs.write(
      'job_2',
      'txt',
      new TextEncoder().encode('short'),
      'application/octet-stream',
    );
    expect(readFileSync(outputs.path('job_2.txt'), 'utf8')).toBe('short');
    expect(readdirSync(outputs.dir)).toEqual(['job_2.txt']);
  });

  it('removes a file, and a missing file quietly', async () => {
    const outputs = outputFiles(tempDir());
    const file = await outputs.write(
      'job_3',
      'txt',
      new Uint8Array([1, 2, 3]),
      'application/octet-stream',
    );
    await outputs.remove(file);
    expect(existsSync(outputs.path(file))).toBe(false);
    await expect(outputs.remove(file)).resolves.toBeUndefined();
  });

  it('removeTemporary removes only the .tmp-* files a killed process left', async () => {
    const outputs = outputFiles(tempDir());
    const kept = await outputs.write(
      'job_4',
      'txt',
      new Uint8Array([4]),
      'application/octet-stream',
    );
    for (const name of ['.tmp-job_5.txt-0a1b2c3d', '.tmp-', 'tmp-job_6.txt', '.hidden', 'x.tmp-']) {
      writeFileSync(join(outputs.dir, name), 'left over');
    }
    outputs.removeTemporary();
    expect(readdirSync(outputs.dir).sort()).toEqual(['.hidden', kept, 'tmp-job_6.txt', 'x.tmp-']);
  });
});
