import { readdirSync, readFileSync } from 'node:fs';

const ticksPerMs = 100 / 1000; // USER_HZ: Linux reports CPU time in 1/100 s

/** The fields of a /proc stat line after the command name: state is [0], ppid [1], utime [11]. */
function statFields(path: string): string[] {
  return readFileSync(path, 'utf8').split(') ')[1]?.split(' ') ?? [];
}

/** CPU time (ms) a process's main thread has used: /proc/<pid>/task/<pid>/stat, utime + stime. */
export function mainThreadCpuMs(pid: number): number {
  const fields = statFields(`/proc/${pid}/task/${pid}/stat`);
  return (Number(fields[11]) + Number(fields[12])) / ticksPerMs;
}

/**
 * CPU time (ms) of a process and its direct children (a PostgreSQL server: the postmaster and
 * its backends), counting the children that already exited and were reaped (cutime, cstime).
 */
export function processTreeCpuMs(rootPid: number): number {
  const root = statFields(`/proc/${rootPid}/stat`);
  let ticks = Number(root[11]) + Number(root[12]) + Number(root[13]) + Number(root[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === rootPid) continue;
    try {
      const fields = statFields(`/proc/${entry}/stat`);
      if (Number(fields[1]) === rootPid) ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process ended between the listing and the read: its time is in the root's cutime.
    }
  }
  return ticks / ticksPerMs;
}
