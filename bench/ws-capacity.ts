/**
 * WebSocket capacity of one origin: memory per subscribed socket and event fan-out latency.
 *
 *   node bench/ws-capacity.ts [--sockets 1000,10000] [--users 4]
 *
 * Starts a real origin (port 0, 127.0.0.1 only), opens N authenticated sockets from this
 * process, spread over a few users, each following its user's job, and at each N reports:
 * the origin's RSS (/proc/<pid>/status VmRSS); the spread of one progress event's receipt
 * across the sockets of its job (each receipt minus the first); and, for a cancel, the time
 * from sending the request (and from its response) to each socket's receipt of `canceled`.
 * Receipt times are taken in this one process, so they include its own event-loop queueing:
 * they bound the origin's fan-out from above. A table is printed; the last line is JSON.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { apiClient } from '../test/helpers/api.ts';
import { removeDataDir, startOriginProcess } from '../test/helpers/origin-process.ts';

const began = Date.now();
const deadline = began + 110_000;
const phase = (what: string) =>
  console.error(`[${((Date.now() - began) / 1000).toFixed(1)} s] ${what}`);
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return (i > 0 ? process.argv[i + 1] : undefined) ?? fallback;
};
let sizes = arg('sockets', '1000,10000')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0)
  .sort((a, b) => a - b);
const users = Math.max(1, Number(arg('users', '4')));

/** Each side holds one descriptor per socket, plus the origin's own files and threads. */
function ensureFileLimit(): void {
  const wanted = (sizes.at(-1) ?? 0) + 1024;
  const out = spawnSync('sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' }).stdout;
  const [soft, hard] = out
    .trim()
    .split('\n')
    .map((v) => (v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v)));
  if (soft === undefined || hard === undefined || soft >= wanted) return;
  if (hard >= wanted && !process.env.WS_CAPACITY_RELAUNCHED) {
    // Node cannot raise its own limit: run again under a shell that does.
    const again = spawnSync(
      'sh',
      ['-c', `ulimit -n ${wanted} && exec "$0" "$@"`, process.execPath, ...process.argv.slice(1)],
      { stdio: 'inherit', env: { ...process.env, WS_CAPACITY_RELAUNCHED: '1' } },
    );
    process.exit(again.status ?? 1);
  }
  const most = Math.max(0, Math.min(soft, hard) - 1024);
  console.warn(
    `file limit ${soft}/${hard} is too low for ${wanted - 1024} sockets; capping at ${most}`,
  );
  sizes = sizes.map((n) => Math.min(n, most)).filter((n, i, all) => n > 0 && all.indexOf(n) === i);
}

const percentile = (values: number[], p: number): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
};
const ms = (v: number) => Math.round(v * 10) / 10;

interface Probe {
  ws: WebSocket;
  user: number;
  /** When this socket received the message being watched for, if it did. */
  hit?: number;
}

/** What the sockets of `user` are waiting for: a substring of one server message. */
let watch: { user: number; needle: Buffer } | undefined;
let acks = 0;

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return Math.round(kb / 102.4) / 10;
}

async function until(what: string, done: () => boolean, timeoutMs = 40_000): Promise<void> {
  const end = Math.min(deadline, Date.now() + timeoutMs);
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

let giveUp = (): void => process.exit(1);

async function main(): Promise<void> {
  ensureFileLimit();
  // A hard bound on the run, whatever hangs: the origin child is killed with this process.
  setTimeout(
    () => {
      console.error('ws-capacity: over the time bound, giving up');
      giveUp();
    },
    deadline - Date.now() + 5_000,
  ).unref();
  const largest = sizes.at(-1) ?? 0;
  const origin = await startOriginProcess({
    env: {
      WS_MAX_SOCKETS_PER_USER: String(largest),
      WS_MAX_BUFFERED_BYTES: String(4 * 1024 * 1024),
      PROGRESS_INTERVAL_MS: '0',
      FREE_GRANT_CREDITS: '1000',
      LOG_LEVEL: 'info',
    },
  });
  giveUp = () => {
    origin.child.kill('SIGKILL');
    removeDataDir(origin.dataDir);
    process.exit(1);
  };
  const pid = origin.child.pid ?? 0;
  const api = apiClient(origin.url);
  const wsBase = `${origin.url.replace(/^http/, 'ws')}/v1/ws`;
  const accounts: { token: string }[] = [];
  for (let u = 0; u < users; u++) accounts.push(await api.signUp());
  const baseline = rssMb(pid);
  const probes: Probe[] = [];
  const rows: Record<string, number | string>[] = [];

  const open = async (user: number) => {
    const token = accounts[user]?.token ?? '';
    const ws = new WebSocket(`${wsBase}?token=${encodeURIComponent(token)}`, {
      perMessageDeflate: false,
    });
    const probe: Probe = { ws, user };
    ws.on('message', (data: Buffer) => {
      if (watch && watch.user === probe.user && probe.hit === undefined) {
        if (data.includes(watch.needle)) probe.hit = performance.now();
      }
      if (data.subarray(0, 24).includes('"subscribed"')) acks++;
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no `ready` within 20 s')), 20_000);
      ws.once('message', () => {
        clearTimeout(timer);
        resolve(); // `ready`
      });
      ws.once('error', reject);
      ws.once('close', (code) => reject(new Error(`socket closed ${code}`)));
    });
    probes.push(probe);
  };

  for (const size of sizes) {
    const startedOpening = performance.now();
    while (probes.length < size) {
      const batch = Math.min(250, size - probes.length);
      const first = probes.length;
      await Promise.all(Array.from({ length: batch }, (_, i) => open((first + i) % users)));
    }
    const openSeconds = (performance.now() - startedOpening) / 1000;
    phase(`${size} sockets open`);

    // One slow job per user (two run, the rest wait in the queue); every socket follows its own.
    const jobs: string[] = [];
    for (const account of accounts) {
      const res = await api.call('POST', '/v1/jobs', {
        token: account.token,
        body: { model: 'steps', input: { steps: 1000, stepMs: 500 } },
      });
      jobs.push(res.body.id as string);
    }
    acks = 0;
    for (const p of probes) p.ws.send(JSON.stringify({ type: 'subscribe', jobId: jobs[p.user] }));
    await until('subscriptions', () => acks >= probes.length).catch((error: unknown) => {
      const closed = probes.filter((p) => p.ws.readyState !== WebSocket.OPEN).length;
      console.error(`${acks} of ${probes.length} subscribed; ${closed} sockets closed`);
      throw error;
    });
    await sleep(1_000);
    const rss = rssMb(pid);
    phase(`${size} sockets subscribed; origin RSS ${rss} MB`);

    // Spread of one live progress event across the sockets of a running job.
    const spreads: number[] = [];
    for (let user = 0; user < Math.min(2, users); user++) {
      const token = accounts[user]?.token ?? '';
      const job = await api.waitForJob(token, jobs[user] ?? '', (j) => j.status === 'running');
      const mine = probes.filter((p) => p.user === user);
      for (const p of mine) p.hit = undefined;
      watch = { user, needle: Buffer.from(`"seq":${job.seq + 2},"event":"progress"`) };
      await until('a progress event on every socket', () => mine.every((p) => p.hit !== undefined));
      const first = Math.min(...mine.map((p) => p.hit ?? 0));
      spreads.push(...mine.map((p) => (p.hit ?? 0) - first));
    }

    phase('progress spread measured');
    // Cancel each user's job: request → receipt, response → receipt, and the spread again.
    const fromRequest: number[] = [];
    const fromResponse: number[] = [];
    const cancelSpreads: number[] = [];
    for (let user = 0; user < users; user++) {
      const mine = probes.filter((p) => p.user === user);
      for (const p of mine) p.hit = undefined;
      watch = { user, needle: Buffer.from(`"event":"canceled"`) };
      const sent = performance.now();
      await api.call('POST', `/v1/jobs/${jobs[user]}/cancel`, { token: accounts[user]?.token });
      const answered = performance.now();
      await until('the cancel on every socket', () => mine.every((p) => p.hit !== undefined));
      const first = Math.min(...mine.map((p) => p.hit ?? 0));
      for (const p of mine) {
        fromRequest.push((p.hit ?? 0) - sent);
        fromResponse.push((p.hit ?? 0) - answered);
        cancelSpreads.push((p.hit ?? 0) - first);
      }
      await sleep(100);
    }
    watch = undefined;

    rows.push({
      sockets: size,
      openPerSecond: Math.round(size / openSeconds),
      rssMb: rss,
      progressSpreadP50: ms(percentile(spreads, 0.5)),
      progressSpreadP99: ms(percentile(spreads, 0.99)),
      cancelToReceiptP50: ms(percentile(fromRequest, 0.5)),
      cancelToReceiptP99: ms(percentile(fromRequest, 0.99)),
      responseToReceiptP50: ms(percentile(fromResponse, 0.5)),
      responseToReceiptP99: ms(percentile(fromResponse, 0.99)),
      cancelSpreadP99: ms(percentile(cancelSpreads, 0.99)),
    });
  }

  for (const p of probes) p.ws.terminate();
  await origin.kill();
  removeDataDir(origin.dataDir);

  const perSocketKb =
    rows.length >= 2
      ? Math.round(
          ((Number(rows.at(-1)?.rssMb) - Number(rows[0]?.rssMb)) * 1024) /
            (Number(rows.at(-1)?.sockets) - Number(rows[0]?.sockets)),
        )
      : undefined;
  const load = Math.round((loadavg()[0] ?? 0) * 10) / 10;
  const cores = availableParallelism();
  console.log(
    `origin RSS with no sockets: ${baseline} MB; ${users} users; ${cores} cores, load ${load}; times in ms`,
  );
  console.table(rows);
  if (perSocketKb !== undefined) console.log(`≈ ${perSocketKb} kB of origin RSS per socket`);
  console.log(JSON.stringify({ baselineRssMb: baseline, users, cores, load, perSocketKb, rows }));
}

await main().catch((error: unknown) => {
  console.error(`ws-capacity: ${error instanceof Error ? error.message : String(error)}`);
  giveUp();
});
