import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../test/helpers/paths.ts';

interface CapacityRow {
  sockets: number;
  rssMb: number;
  progressSpreadP50: number;
  progressSpreadP99: number;
  cancelToReceiptP50: number;
  cancelToReceiptP99: number;
}

/**
 * Subscribed sockets one origin holds and what it costs, from bench/ws-capacity.ts (run as
 * its own process so it can raise its file limit): RSS at each size, and event-to-client
 * latency (a cancel request to each socket's receipt) at the largest.
 */
export function wsCapacity(options: { sockets: number[] }) {
  const run = spawnSync(
    process.execPath,
    [join(repoRoot, 'bench/ws-capacity.ts'), '--sockets', options.sockets.join(',')],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 180_000 },
  );
  const last = run.stdout.trim().split('\n').at(-1) ?? '';
  const result = JSON.parse(last) as { rows: CapacityRow[]; perSocketKb?: number };
  const top = result.rows.at(-1);
  if (!top) throw new Error('ws-capacity measured nothing');
  return {
    ws_sockets: top.sockets,
    ws_rss_mb: top.rssMb,
    // Cancel request sent → each socket receives `canceled`: event write to client receipt,
    // plus one HTTP request. (Its response arrives after the event, so it is no start line.)
    ws_fanout_p50_ms: top.cancelToReceiptP50,
    ws_fanout_p99_ms: top.cancelToReceiptP99,
    ws_rss_by_sockets: Object.fromEntries(result.rows.map((r) => [r.sockets, r.rssMb])),
    ws_kb_per_socket: result.perSocketKb,
  };
}
