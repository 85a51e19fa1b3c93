/**
 * The PostgreSQL event feed on a real server: a hint (`<job id>:<seq>`) makes it read the
 * events it has not heard, several hints in one read, in order; what this process committed
 * itself (`emitLocal`) is never read back; a listener hears each event once.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { PostgresEventFeed } from '../../../origin/store/postgres/event-feed.ts';
import type { JobEvent } from '../../../origin/store/store.ts';
import { type PostgresServer, startPostgres } from '../../../scripts/lib/postgres-server.ts';
import type { Job } from '../../../shared/schemas/jobs.ts';
import { waitFor } from '../support.ts';

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

const event = (jobId: string, seq: number): JobEvent => ({
  jobId,
  userId: 'usr_feed',
  seq,
  kind: seq === 1 ? 'queued' : 'progress',
  job: { id: jobId, seq } as unknown as Job,
  createdAt: seq,
});

/**
 * A feed whose reads answer from `rows` and are recorded (a read waits while `gate.hold`
 * is set); and a way to send hints as the trigger does.
 */
async function feedWithReads() {
  const reads: [string, number, number][][] = [];
  const rows: JobEvent[] = [];
  const gate: { hold: Promise<void> | undefined } = { hold: undefined };
  const feed = new PostgresEventFeed({
    url: server.url(),
    onError: (error) => {
      throw error;
    },
    async read(wanted) {
      reads.push(wanted.map((w) => [...w]));
      await gate.hold;
      return rows.filter((e) =>
        wanted.some(([id, after, upTo]) => e.jobId === id && e.seq > after && e.seq <= upTo),
      );
    },
  });
  await feed.start();
  onTestFinished(() => feed.close());
  const hint = async (...payloads: string[]) => {
    const client = new pg.Client({ connectionString: server.url() });
    await client.connect();
    try {
      for (const p of payloads)
        await client.query("SELECT pg_notify('overture_job_events', $1)", [p]);
    } finally {
      await client.end();
    }
  };
  return { feed, reads, rows, hint, gate };
}

describe('PostgresEventFeed', () => {
  it('reads hinted events it has not heard, once each, in order', async () => {
    const { feed, reads, rows, hint } = await feedWithReads();
    const heard: string[] = [];
    feed.listen((e) => heard.push(`${e.jobId}#${e.seq}`));
    rows.push(event('job_a', 1), event('job_a', 2), event('job_b', 1));
    await hint('job_a:1', 'job_a:2', 'job_b:1');
    await waitFor(() => heard.length === 3, 5_000, 'three events');
    expect(heard.filter((h) => h.startsWith('job_a'))).toEqual(['job_a#1', 'job_a#2']);
    expect(heard).toContain('job_b#1');
    // A hint of what was heard already reads nothing.
    const before = reads.length;
    await hint('job_a:2');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(reads.length).toBe(before);
    expect(heard).toHaveLength(3);
  });

  it("never reads back this process's own events, heard at once through emitLocal", async () => {
    const { feed, reads, rows, hint, gate } = await feedWithReads();
    const heard: number[] = [];
    feed.listen((e) => heard.push(e.seq));
    const own = [event('job_own', 1), event('job_own', 2)];
    rows.push(...own);
    feed.emitLocal(own);
    expect(heard).toEqual([1, 2]);
    // The trigger's hints of those commits arrive after: nothing to read.
    await hint('job_own:1', 'job_own:2');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(reads).toEqual([]);
    // Hints that arrive while a read is under way, of events this process then commits and
    // hears itself, are not read back either.
    const { promise: held, resolve: release } = Promise.withResolvers<void>();
    gate.hold = held;
    rows.push(event('job_other', 1));
    await hint('job_other:1');
    await waitFor(() => reads.length === 1, 5_000, 'the read of job_other');
    const mine = [event('job_own', 3), event('job_own', 4)];
    rows.push(...mine);
    await hint('job_own:3', 'job_own:4');
    await new Promise((resolve) => setTimeout(resolve, 200));
    feed.emitLocal(mine);
    gate.hold = undefined;
    release();
    await waitFor(() => heard.length === 5, 5_000, 'job_other');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(reads).toEqual([[['job_other', 0, 1]]]);
    // Another process's next event is read from where this one left off.
    rows.push(event('job_own', 5));
    await hint('job_own:5');
    await waitFor(() => heard.length === 6, 5_000, 'the fifth event');
    expect(reads.flat().at(-1)).toEqual(['job_own', 4, 5]);
    expect(heard).toEqual([1, 2, 3, 4, 1, 5]);
  });
});
