import { spawnSync } from 'node:child_process';

/**
 * A Debian package a benchmark peer needs: installed when `present()` says it is missing and
 * this process is root (as CI runs). Answers whether it is present afterwards.
 *
 * @example
 * const ok = ensureDebianPackage('redis-server', 'the BullMQ peer', () => hasRedis());
 */
export function ensureDebianPackage(name: string, why: string, present: () => boolean): boolean {
  if (present()) return true;
  if (process.getuid?.() === 0) {
    console.warn(`bench: installing ${name} from Debian packages for ${why}`);
    spawnSync(
      'sh',
      ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${name}`],
      { stdio: 'inherit' },
    );
  }
  return present();
}
