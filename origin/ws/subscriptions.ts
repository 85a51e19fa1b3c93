import { setImmediate as yieldToIo } from 'node:timers/promises';
import { terminalStatuses } from '../../shared/job-states.ts';
import type { ServerMessage, WsErrorCode } from '../../shared/ws-messages.ts';
import type { JobEvent, JobStore } from '../store/store.ts';

/** What a subscription needs of the socket it sends to. */
export interface Subscriber {
  /** Undefined until the socket authenticated. */
  readonly userId: string | undefined;
  /** Sends, unless the socket's unsent bytes would pass their bound (it is closed then). */
  send(message: ServerMessage | string): void;
  /** Answers a bad request with an error message, counted against the socket's budget. */
  fail(code: WsErrorCode, message: string, jobId?: string): void;
  /**
   * Runs `task` after the socket's earlier work (its messages, earlier catch-ups), in
   * order; a task that fails is the socket's to report and close, never a rejection.
   */
  schedule(task: () => Promise<void>): void;
  /** How many stored events the socket may be replayed now; replays take from it. */
  readonly replayBudget: { available(): number; take(n: number): boolean };
  /** The socket asked for more than a budget allows: it is closed (1008). */
  overBudget(reason: string): void;
}

/** Stored events read per query of a replay; between two, other sockets' work runs. */
const replayPage = 200;

interface Subscription {
  readonly subscriber: Subscriber;
  readonly jobId: string;
  /** The last seq sent to the subscriber for the job. */
  lastSeq: number;
  /** While stored events are being replayed, live events wait here. */
  pending: JobEvent[] | undefined;
  /** The last queue position sent (queue moves are coalesced and only sent on change). */
  position: number | null;
  /** The last estimated start sent (seconds), null before any. */
  eta: number | null;
}

/** An estimate moved this much (seconds) is sent again, though the position did not move. */
const etaMoveSeconds = 2;

/** Each event's message, made once: for every follower, and again for a replay of it. */
const messages = new WeakMap<JobEvent, string>();

/**
 * The `job` message of an event, as sent on the wire. Serialised once per event object: the
 * live event and a replay the store answers from memory (SQLite's recent events) are one.
 */
function jobMessage(e: JobEvent): string {
  let text = messages.get(e);
  if (text === undefined) {
    text = JSON.stringify({
      type: 'job',
      jobId: e.jobId,
      seq: e.seq,
      event: e.kind,
      job: e.job,
    } satisfies ServerMessage);
    messages.set(e, text);
  }
  return text;
}

/**
 * Every socket's subscriptions to jobs, and the one owner of them: gapless, duplicate-free
 * delivery of each followed job's events in `seq` order. A live event that skips a seq (one
 * missed, as across processes) is not trusted: the gap is replayed from the store, as a
 * reconnecting client's `since` is.
 */
export class Subscriptions {
  readonly #store: Pick<JobStore, 'get' | 'eventsSince'>;
  readonly #maxPerSubscriber: number;
  readonly #byJob = new Map<string, Set<Subscription>>();
  readonly #bySubscriber = new Map<Subscriber, Map<string, Subscription>>();

  constructor(store: Pick<JobStore, 'get' | 'eventsSince'>, maxPerSubscriber: number) {
    this.#store = store;
    this.#maxPerSubscriber = maxPerSubscriber;
  }

  /** True when any socket follows any job. */
  get any(): boolean {
    return this.#byJob.size > 0;
  }

  /** Every job some socket follows. */
  followedJobs(): string[] {
    return [...this.#byJob.keys()];
  }

  /**
   * The backstop for a live event that never arrived (a hint lost across processes): each
   * follower of a job whose latest seq is past what it was sent replays the gap from the store.
   */
  resync(latest: readonly { id: string; seq: number }[]): void {
    for (const { id, seq } of latest) {
      for (const sub of this.#byJob.get(id) ?? []) {
        if (sub.pending || seq <= sub.lastSeq) continue;
        sub.pending = [];
        sub.subscriber.schedule(() => this.#catchUp(sub));
      }
    }
  }

  /**
   * Follows the job (the subscriber's own, else `not_found`): `subscribed` with the job now,
   * the stored events after `since`, then live events, with no gap and no duplicate.
   */
  async subscribe(subscriber: Subscriber, jobId: string, since: number | undefined): Promise<void> {
    const userId = subscriber.userId;
    if (userId === undefined) return;
    const mine = this.#bySubscriber.get(subscriber);
    if (!mine?.has(jobId) && (mine?.size ?? 0) >= this.#maxPerSubscriber) {
      subscriber.fail('too_many_subscriptions', 'unsubscribe from a job first', jobId);
      return;
    }
    // Listen before reading, so nothing committed in between is missed.
    const sub: Subscription = {
      subscriber,
      jobId,
      lastSeq: since ?? 0,
      pending: [],
      position: null,
      eta: null,
    };
    this.#add(sub);
    const job = await this.#store.get(userId, jobId);
    if (!job) {
      this.#remove(sub);
      // Unknown and not-yours answer the same: nothing leaks.
      subscriber.fail('not_found', 'no such job', jobId);
      return;
    }
    // A seq from the future (say, a client of a restored database) resumes from now.
    sub.lastSeq = Math.min(since ?? job.seq, job.seq);
    sub.position = job.queuePosition;
    sub.eta = job.etaSeconds;
    subscriber.send({ type: 'subscribed', jobId, seq: job.seq, job });
    await this.#catchUp(sub);
    // Already over and nothing left to send: the subscription has nothing to wait for.
    if (terminalStatuses.includes(job.status) && sub.lastSeq >= job.seq) this.#remove(sub);
  }

  unsubscribe(subscriber: Subscriber, jobId: string): void {
    const sub = this.#bySubscriber.get(subscriber)?.get(jobId);
    if (sub) this.#remove(sub);
  }

  /** Forgets a closed socket's subscriptions. */
  removeAll(subscriber: Subscriber): void {
    for (const sub of this.#bySubscriber.get(subscriber)?.values() ?? []) this.#remove(sub);
  }

  /** Delivers a committed event to the job's followers (its owner's sockets only). */
  publish(event: JobEvent): void {
    const followers = this.#byJob.get(event.jobId);
    if (!followers) return;
    for (const sub of followers) this.#deliver(sub, event);
  }

  /**
   * The queue now, in the fair order, with each job's estimated start in seconds: each
   * followed queued job hears its position when it moved, or its estimate when it moved by
   * `etaMoveSeconds` or more.
   */
  moveInQueue(
    queue: readonly { id: string; seq: number }[],
    etaSeconds: (jobId: string) => number,
  ): void {
    queue.forEach(({ id, seq }, index) => {
      const position = index + 1;
      const followers = this.#byJob.get(id);
      if (!followers) return;
      const eta = etaSeconds(id);
      for (const sub of followers) {
        if (sub.pending || seq !== sub.lastSeq) continue;
        const moved =
          sub.position !== position ||
          sub.eta === null ||
          Math.abs(sub.eta - eta) >= etaMoveSeconds;
        if (!moved) continue;
        sub.position = position;
        sub.eta = eta;
        sub.subscriber.send({
          type: 'queue',
          jobId: id,
          seq,
          queuePosition: position,
          etaSeconds: eta,
        });
      }
    });
  }

  #add(sub: Subscription): void {
    const mine = this.#bySubscriber.get(sub.subscriber) ?? new Map<string, Subscription>();
    const old = mine.get(sub.jobId);
    if (old) this.#byJob.get(sub.jobId)?.delete(old);
    mine.set(sub.jobId, sub);
    this.#bySubscriber.set(sub.subscriber, mine);
    const followers = this.#byJob.get(sub.jobId) ?? new Set<Subscription>();
    followers.add(sub);
    this.#byJob.set(sub.jobId, followers);
  }

  #isFollowing(sub: Subscription): boolean {
    return this.#bySubscriber.get(sub.subscriber)?.get(sub.jobId) === sub;
  }

  #remove(sub: Subscription): void {
    const mine = this.#bySubscriber.get(sub.subscriber);
    if (mine?.get(sub.jobId) === sub) mine.delete(sub.jobId);
    if (mine?.size === 0) this.#bySubscriber.delete(sub.subscriber);
    const followers = this.#byJob.get(sub.jobId);
    followers?.delete(sub);
    if (followers?.size === 0) this.#byJob.delete(sub.jobId);
  }

  /** A live event: in order, once; a gap (a missed event) is replayed from the store. */
  #deliver(sub: Subscription, event: JobEvent): void {
    if (event.userId !== sub.subscriber.userId) return;
    if (sub.pending) {
      sub.pending.push(event);
      return;
    }
    if (event.seq <= sub.lastSeq) return;
    if (event.seq > sub.lastSeq + 1) {
      sub.pending = [event];
      sub.subscriber.schedule(() => this.#catchUp(sub));
      return;
    }
    this.#send(sub, event);
  }

  /**
   * Sends stored events after `lastSeq`, then whatever arrived live meanwhile. Stored events
   * are read a page at a time, each taken from the socket's replay budget: a socket that asks
   * for more than is left is closed (1008) before anything past the budget is read.
   */
  async #catchUp(sub: Subscription): Promise<void> {
    sub.pending ??= [];
    const budget = sub.subscriber.replayBudget;
    for (;;) {
      // Scheduled behind the socket's other work, it may find itself left or replaced.
      if (!this.#isFollowing(sub)) return;
      const allowance = Math.min(replayPage, Math.floor(budget.available()));
      // A failed read rejects: the socket closes (1011) and its client resumes with `since`.
      // One row more than allowed tells whether the budget would be passed.
      const page = await this.#store.eventsSince(sub.jobId, sub.lastSeq, allowance + 1);
      if (!this.#isFollowing(sub)) return; // left or replaced while the page was read
      const sending = page.slice(0, allowance);
      budget.take(sending.length);
      for (const e of sending) this.#send(sub, e);
      if (page.length <= allowance) break;
      if (budget.available() < 1) {
        sub.subscriber.overBudget('replay budget spent: subscribe with a later since');
        return;
      }
      await yieldToIo();
    }
    const waiting = sub.pending;
    sub.pending = undefined;
    // Most of these came in the replay too: each is sent only if it was not.
    for (const e of waiting) this.#deliver(sub, e);
  }

  /**
   * Sends one event, in order and once, to a subscription still followed: one the socket
   * left, or replaced with a new subscribe, or that ended with its terminal event, sends
   * nothing more (a read under way when that happened comes back to nobody).
   */
  #send(sub: Subscription, event: JobEvent): void {
    if (event.seq <= sub.lastSeq || !this.#isFollowing(sub)) return;
    sub.lastSeq = event.seq;
    sub.position = event.job.queuePosition;
    sub.eta = null;
    sub.subscriber.send(jobMessage(event));
    // A terminal event was sent: no later event can come, so the subscription ends.
    if (terminalStatuses.includes(event.job.status)) this.#remove(sub);
  }
}
