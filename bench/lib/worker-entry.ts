import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { EdgeProcess } from '../../test/helpers/edge-process.ts';

/** The workerd processes of one `wrangler dev` (its process group: it is started detached). */
function workerdPids(group: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // `pid (comm) state ppid pgrp …`: comm may hold spaces, so read from its last `)`.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (comm === 'workerd' && pgrp === group) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** The TCP ports `pids` listen on (their socket inodes, found in /proc/net/tcp{,6}). */
function listeningPorts(pids: number[]): number[] {
  const inodes = new Set<string>();
  for (const pid of pids) {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
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
 * process table (Linux only): of the ports the edge's workerd processes listen on, other than
 * the public one, the one where `/healthz` answers as the Worker (`service`, the edge's by
 * default; the others are workerd's inspector and debug ports). A request there enters
 * Miniflare's entry Worker and then ours, as a request from the proxy does, so the
 * difference to the public port is the proxy's hop.
 *
 * @example
 * const inner = await workerEntryOf(edge); // 'http://127.0.0.1:41234'
 */
export async function workerEntryOf(edge: EdgeProcess, service = 'edge'): Promise<string> {
  const group = edge.child.pid;
  if (group === undefined) throw new Error('the edge has no process');
  const ports = listeningPorts(workerdPids(group)).filter((p) => p !== edge.port);
  const answers = await Promise.all(ports.map((port) => answersAs(port, service)));
  const port = ports.find((_, i) => answers[i]);
  if (port === undefined) throw new Error(`no Worker entry among ports ${ports.join(', ')}`);
  return `http://127.0.0.1:${port}`;
}
