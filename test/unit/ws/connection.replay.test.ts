import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { JobEvent } from '../../../origin/store/store.ts';
import { Connection, type ConnectionContext } from '../../../origin/ws/connection.ts';
import { Subscriptions } from '../../../origin/ws/subscriptions.ts';
import type { Job } from '../../../shared/schemas/jobs.ts';

const jobId = 'job_replay0000000000';
const owner = 'usr_owner000000000';

/** The part of a `ws` socket a Connection uses; records what was sent. */
class FakeSocket {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  closedWith: number | undefined;
  send(text: string) {
    this.sent.push(text);
  }
  close(code: number) {
    this.closedWith = code;
    this.readyState = 3;
  }
  terminate() {
    this.readyState = 3;
  }
}

/**
 * A job whose events are published one per macrotask, and a store whose reads yield to the
 * event loop (as a networked database would), so events commit between a subscriber's
 * snapshot read, its replay read, and its going live. `readsLate` picks whether a replay
 * sees the events committed during its own wait.
 */
function world(readsLate: boolean, replay = { maxReplayEvents: 1_000_000, perSecond: 1_000 }) {
  const events: JobEvent[] = [];
  /** The `limit` of each replay read. */
  const reads: number[] = [];
  const snapshot = (seq: number) => ({ id: jobId, status: 'running', seq }) as unknown as Job;
  const subscriptions = new Subscriptions(
    {
      async get(userId) {
        await tick();
        return userId === owner ? snapshot(events.length) : undefined;
      },
      async eventsSince(_jobId, since, limit = Number.POSITIVE_INFINITY) {
        reads.push(limit);
        const early = events.filter((e) => e.seq > since);
        await tick();
        return (readsLate ? events.filter((e) => e.seq > since) : early).slice(0, limit);
      },
    },
    10,
  );
  const hub: ConnectionContext = {
    subscriptions,
    limits: {
      maxBufferedBytes: 1 << 30,
      maxMessageBytes: 4096,
      maxSubscriptions: 10,
      maxSocketsPerUser: 10,
      errorBudget: 5,
      authTimeoutMs: 1_000,
      pingIntervalMs: 1_000,
      maxMessagesPerSecond: 1_000,
      maxReplayEvents: replay.maxReplayEvents,
      replayEventsPerSecond: replay.perSecond,
    },
    async admit() {},
    onSlowConsumer() {},
    onTaskError(_connection, error) {
      throw error;
    },
  };
  /** Commits the next event; `heard: false` stores it without announcing it (a lost hint). */
  const publish = (heard = true) => {
    const seq = events.length + 1;
    const event: JobEvent = {
      jobId,
      userId: owner,
      seq,
      kind: seq === 1 ? 'queued' : 'progress',
      job: snapshot(seq),
      createdAt: Date.now(),
    };
    events.push(event);
    if (heard) subscriptions.publish(event);
  };
  const connect = (userId = owner) => {
    const socket = new FakeSocket();
    const connection = new Connection(socket as unknown as WebSocket, hub);
    connection.userId = userId;
    const subscribe = (since?: number) => {
      connection.receive(Buffer.from(JSON.stringify({ type: 'subscribe', jobId, since })), false);
      return connection.idle();
    };
    const seqs = () =>
      socket.sent
        .map((text) => JSON.parse(text) as { type: string; seq: number })
        .filter((m) => m.type === 'job')
        .map((m) => m.seq);
    return { socket, connection, subscribe, seqs };
  };
  return { events, reads, publish, connect };
}

const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

describe('Subscriptions: replay racing live events', () => {
  it.each([
    ['replay reads after its wait', true],
    ['replay reads before its wait', false],
  ])('delivers every seq once, in order, whenever a subscribe lands (%s)', async (_, late) => {
    const w = world(late);
    const total = 120;
    const joiners = [0, 1, 2, 5, 17, 60, 118].map((at) => ({ at, client: w.connect() }));
    const live = joiners.map(() => w.connect());
    const subscribing: Promise<void>[] = [];
    for (let n = 0; n <= total; n++) {
      for (const [i, j] of joiners.entries()) {
        if (j.at === n) {
          subscribing.push(j.client.subscribe(0));
          subscribing.push(live[i]?.subscribe() ?? Promise.resolve());
        }
      }
      if (n < total) w.publish();
      await tick();
    }
    await Promise.all(subscribing);
    for (let i = 0; i < 5; i++) await tick();

    for (const j of joiners) expect(j.client.seqs(), `since 0 at ${j.at}`).toEqual(range(1, total));
    for (const [i, client] of live.entries()) {
      const seqs = client.seqs();
      // Live from the snapshot it was given: a tail of the stream, gapless and unrepeated.
      expect(seqs, `live at ${joiners[i]?.at}`).toEqual(range(total - seqs.length + 1, total));
    }
  });

  it("drops events of another user's job, and answers not_found to its subscribe", async () => {
    const w = world(true);
    const stranger = w.connect('usr_stranger000000');
    const subscribing = stranger.subscribe(0);
    for (let n = 0; n < 10; n++) {
      w.publish();
      await tick();
    }
    await subscribing;
    expect(stranger.seqs()).toEqual([]);
    expect(stranger.socket.sent.map((t) => JSON.parse(t))).toEqual([
      { type: 'error', code: 'not_found', message: 'no such job', jobId },
    ]);
  });
});

describe('Subscriptions: the replay budget', () => {
  it('reads a long history a page at a time, and delivers it whole and in order', async () => {
    const w = world(true);
    for (let n = 0; n < 650; n++) w.publish();
    const client = w.connect();
    await client.subscribe(0);
    expect(client.seqs()).toEqual(range(1, 650));
    // Pages of 200 (and one row more, to know whether more follow).
    expect(w.reads).toEqual([201, 201, 201, 201]);
  });

  it('closes (1008) a socket that asks for more than its budget, reading no further', async () => {
    const w = world(true, { maxReplayEvents: 150, perSecond: 1 });
    for (let n = 0; n < 100; n++) w.publish();
    const client = w.connect();
    await client.subscribe(0);
    expect(client.seqs()).toEqual(range(1, 100));
    expect(client.socket.closedWith).toBeUndefined();
    await client.subscribe(0);
    expect(client.socket.closedWith).toBe(1008);
    // 50 left in the budget: 50 sent, and the read asked for 51 rows, never the whole history.
    expect(client.seqs()).toEqual([...range(1, 100), ...range(1, 50)]);
    expect(w.reads.at(-1)).toBe(51);
  });
});

describe('Subscriptions: a catch-up scheduled behind the socket leaving or replacing it', () => {
  /** A client following the job from 0, then one event stored unheard: the next one heard is a gap. */
  async function followingWithGap() {
    const w = world(true);
    for (let n = 0; n < 3; n++) w.publish();
    const client = w.connect();
    await client.subscribe(0);
    expect(client.seqs()).toEqual([1, 2, 3]);
    w.publish(false);
    return { w, client };
  }
  const message = (m: object) => Buffer.from(JSON.stringify(m));

  it('sends no event after `unsubscribed`', async () => {
    const { w, client } = await followingWithGap();
    client.connection.receive(message({ type: 'unsubscribe', jobId }), false);
    w.publish(); // a gap for the subscription: its catch-up is queued behind the unsubscribe
    await client.connection.idle();
    const types = client.socket.sent.map((t) => (JSON.parse(t) as { type: string }).type);
    expect(types.slice(types.indexOf('unsubscribed'))).toEqual(['unsubscribed']);
    expect(client.seqs()).toEqual([1, 2, 3]);
  });

  it('sends each event once when a re-subscribe replaced the subscription', async () => {
    const { w, client } = await followingWithGap();
    client.connection.receive(message({ type: 'subscribe', jobId, since: 3 }), false);
    w.publish(); // a gap for the old subscription, its catch-up queued behind the re-subscribe
    await client.connection.idle();
    expect(client.seqs()).toEqual([1, 2, 3, 4, 5]);
  });
});
