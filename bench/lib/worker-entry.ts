import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { EdgeProcess } from '../../test/helpers/edge-process.ts';

/** `pid`'s parent and process group, from /proc/<pid>/stat; undefined once it is gone. */
function statOf(pid: string): { ppid: number; pgrp: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // `pid (comm) state ppid pgrp …`: comm may hold spaces, so read from its last `)`.
    const [, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(ppid), pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}

/**
 * The processes of one `wrangler dev` started as `root` (wrangler's node and its workerd): those
 * in its process group (it is started detached) and those descended from it, should a runtime
 * put them in a group of their own. All of them, whatever their names: which of their ports is
 * the Worker's is told by asking each.
 */
function edgePids(root: number): number[] {
  const stats = new Map<number, { ppid: number; pgrp: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = statOf(entry);
    if (stat) stats.set(Number(entry), stat);
  }
  const descends = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === root) return true;
      p = stats.get(p)?.ppid ?? 0;
    }
    return false;
  };
  return [...stats]
    .filter(([pid, stat]) => stat.pgrp === root || descends(pid))
    .map(([pid]) => pid);
}

/** The TCP ports `pids` listen on (their socket inodes, found in /proc/net/tcp{,6}). */
function listeningPorts(pids: number[]): number[] {
  const inodes = new Set<string>();
  for (const pid of pids) {
    const fds = (() => {
      try {
        return readdirSync(`/proc/${pid}/fd`);
      } catch {
        return []; // Gone meanwhile, or not ours to read.
      }
    })();
    for (const fd of fds) {
      const target = (() => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          return '';
        }
      })();
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode) inodes.add(inode);
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      // `sl local_address rem_address st … inode`: st 0A is LISTEN.
      const cols = line.trim().split(/\s+/);
      const [local, state, inode] = [cols[1], cols[3], cols[9]];
      if (state === '0A' && inode && inodes.has(inode) && local) {
        ports.add(parseInt(local.split(':').at(-1) ?? '', 16));
      }
    }
  }
  return [...ports];
}

/**
 * Whether a Worker answers `/healthz` on `port` as `service` (within a second: some ports never
 * answer HTTP).
 */
async function answersAs(port: number, service: string): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, {
      signal: AbortSignal.timeout(1_000),
    });
    const body = (await res.json()) as { service?: unknown };
    return res.status === 200 && body.service === service;
  } catch {
    return false;
  }
}

/**
 * The address of the Worker's own entry inside a `wrangler dev`, without wrangler's proxy in
 * front. `wrangler dev` runs two workerd processes: one holds wrangler's proxy Worker, on the
 * public port; it passes each request over HTTP to the other, which runs our Worker on a port
 * of its own (chosen at random, and printed nowhere). That port is found here from the
 * process table (Linux only): of the ports the edge's processes listen on, other than the
 * public one, the one where `/healthz` answers as the Worker (`service`, the edge's by
 * default; the others are workerd's inspector and debug ports). A request there enters
 * Miniflare's entry Worker and then ours, as a request from the proxy does, so the
 * difference to the public port is the proxy's hop.
 *
 * Where the process table does not show it (another system, or a sandbox whose /proc shows
 * other processes or sockets than ours), answers why instead: the bench then leaves out what
 * it would have measured there, and says so.
 *
 * @example
 * const inner = await workerEntryOf(edge); // { url: 'http://127.0.0.1:41234' }
 */
export async function workerEntryOf(
  edge: EdgeProcess,
  service = 'edge',
): Promise<{ url: string } | { missing: string }> {
  const root = edge.child.pid;
  if (root === undefined) return { missing: 'the edge has no process' };
  if (process.platform !== 'linux') return { missing: `not on Linux (${process.platform})` };
  const pids = edgePids(root);
  if (pids.length === 0) return { missing: `no process of pid ${root}'s in /proc` };
  const ports = listeningPorts(pids).filter((p) => p !== edge.port);
  const answers = await Promise.all(ports.map((port) => answersAs(port, service)));
  const port = ports.find((_, i) => answers[i]);
  if (port === undefined) {
    return {
      missing: `pids ${pids.join(', ')} listen on ${ports.length > 0 ? `ports ${ports.join(', ')}, none answering as ${service}` : 'no port /proc/net/tcp shows'}`,
    };
  }
  return { url: `http://127.0.0.1:${port}` };
}
