import type { ChildProcess } from 'node:child_process';

/**
 * Resolves once `child` has exited (or failed to start); until then, this process taking its
 * leave (an uncaught error in the bench) SIGKILLs it, so nothing a bench started outlives it.
 */
export function exitOf(child: ChildProcess): Promise<void> {
  const orphaned = () => child.kill('SIGKILL');
  process.once('exit', orphaned);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  void exited.then(() => process.off('exit', orphaned));
  return exited;
}
