import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, inArray, isNotNull, isNull, lt } from 'drizzle-orm';
import type { JobEventKind } from '../../../shared/job-states.ts';
import { fairOrder, heldByUser } from '../../jobs/fair-queue.ts';
import { countsProgress, eventOf } from '../../jobs/job-events.ts';
import {
  abandon,
  applyChange,
  cancelJob,
  decideCreate,
  endJob,
  expireQueued,
  giveBack,
  isOverdue,
  type JobChange,
  recordProgress,
  startAttempt,
} from '../../jobs/job-rules.ts';
import { storedJob, toJob } from '../../jobs/view.ts';
import { asBuffer } from '../../lib/as-buffer.ts';
import type { JobRecord } from '../records.ts';
import type { JobEvent, JobStore, QueueSnapshot } from '../store.ts';
import type { Db } from './database.ts';
import { type JobStatements, prepareJobStatements } from './job-statements.ts';
import type { LedgerWriter } from './ledger.ts';
import { QueueReads } from './queue-reads.ts';
import { RecentEvents } from './recent-events.ts';
import { type JobRow, jobOutputs, jobs } from './schema/index.ts';
import { WriteBatch } from './write-batch.ts';

/** A row is a record: the compiler checks the columns match the neutral type. */
const record = (row: JobRow): JobRecord => row;

/** 1 for the next job to start; null once the job has left the queue. */
function queuePosition(queue: QueueReads, job: JobRecord): number | null {
  if (job.status !== 'queued') return null;
  return queue.positions().get(job.id) ?? null;
}

/** What writing an event needs beside the job: the statements, the progress budget. */
interface EventWriter {
  q: JobStatements;
  queue: QueueReads;
  /** `progress` deliveries a job may write. */
  maxProgress: number;
}

/** Writes the event of `job` (as it is now) and its webhook delivery; answers the event. */
function recordEvent(
  { q, queue, maxProgress }: EventWriter,
  job: JobRecord,
  kind: JobEventKind,
  at: number,
  position = queuePosition(queue, job),
): JobEvent {
  const written = countsProgress(job, kind)
    ? (q.progressDeliveries.get({ jobId: job.id })?.n ?? 0)
    : 0;
  const { event, delivery } = eventOf(job, kind, at, position, { max: maxProgress, written });
  q.insertEvent.run({ jobId: job.id, seq: job.seq, kind, snapshot: event.job, at });
  if (delivery) q.insertDelivery.run({ ...delivery });
  return event;
}

/**
 * Writes what a rule decided for a job, inside the caller's transaction: its columns, its
 * ledger row, its event and the event's webhook delivery. Answers the event.
 */
function write(
  w: EventWriter,
  ledger: LedgerWriter,
  job: JobRecord,
  change: JobChange,
  at: number,
): JobEvent {
  const next = applyChange(job, change);
  w.q.save.run({ ...next });
  // Progress moves no job in or out of the queue, nor any thread.
  if (change.kind !== 'progress') w.queue.changed();
  if (change.ledger) ledger(change.ledger);
  return recordEvent(w, next, change.kind, at);
}

/** Jobs and their events in SQLite. Listeners hear each event after its commit. */
export function sqliteJobs(
  db: Db,
  ledger: LedgerWriter,
  publish: (events: readonly (JobEvent | undefined)[]) => void,
  maxProgress: number,
): { jobs: Omit<JobStore, 'onCommit'>; writes: WriteBatch } {
  // What this store committed lately, for replays (checked against the file's latest seq).
  const recent = new RecentEvents();
  const emit = (events: readonly (JobEvent | undefined)[]): void => {
    for (const event of events) if (event) recent.add(event);
    publish(events);
  };
  const q = prepareJobStatements(db);
  const queue = new QueueReads(q);
  const w: EventWriter = { q, queue, maxProgress };
  /** The queue in the fair order, from the kept read. */
  const queueNow = (): QueueSnapshot => ({ queued: queue.order(), held: queue.snapshot().held });
  const byId = (id: string) => {
    const row = q.byId.get({ id });
    return row && record(row);
  };
  // Statements prepared on the database run inside its transaction: one connection, one
  // writer, so what a write read cannot change under it before it writes. Writes asked for
  // in one turn share a commit (WriteBatch); a rolled-back one may have left a read of what
  // it wrote. Listeners hear a write's events once its commit is done.
  const batch = new WriteBatch(db.$client, () => queue.changed());
  const transaction = <T>(fn: () => T, committed?: (result: T) => void): Promise<T> =>
    batch.run(fn, committed);
  /**
   * Reads the job, asks `rule`, writes its answer (and `also`, when the rule changed the
   * job), then tells the listeners.
   */
  const change = (
    jobId: string,
    at: number,
    rule: (job: JobRecord) => JobChange | undefined,
    also?: () => void,
  ): Promise<JobEvent | undefined> =>
    transaction(
      () => {
        const job = byId(jobId);
        const decided = job && rule(job);
        if (!job || !decided) return undefined;
        also?.();
        return write(w, ledger, job, decided, at);
      },
      (event) => emit([event]),
    );

  const store: Omit<JobStore, 'onCommit'> = {
    async create(input) {
      const result = await transaction(
        () => {
          const prior =
            input.idempotencyKey === undefined
              ? undefined
              : q.byIdempotencyKey.get({ userId: input.userId, key: input.idempotencyKey });
          const queued = q.countQueued.get()?.n ?? 0;
          const userJobs = q.userJobs.get({ userId: input.userId })?.n ?? 0;
          const balance = q.balance.get({ userId: input.userId })?.b ?? 0;
          const decision = decideCreate(input, {
            prior: prior && record(prior),
            queued,
            userJobs,
            balance,
          });
          if (decision.kind !== 'create') return decision;
          const { job, debit } = decision;
          q.insert.run({ ...job });
          queue.changed();
          if (debit) ledger(debit);
          return { kind: 'event', event: recordEvent(w, job, 'queued', input.at) } as const;
        },
        (done) => done.kind === 'event' && emit([done.event]),
      );
      switch (result.kind) {
        case 'event':
          return {
            kind: 'created',
            job: result.event.job,
            queue: queueNow(),
          };
        case 'replayed':
          return { kind: 'replayed', job: toJob(result.job, queuePosition(queue, result.job)) };
        default:
          return result;
      }
    },

    async get(userId, jobId) {
      const row = q.byIdForUser.get({ id: jobId, userId });
      return row && toJob(row, queuePosition(queue, row));
    },

    async record(jobId) {
      return byId(jobId);
    },

    async list(userId, { status, limit, cursor }) {
      const rows = db
        .select()
        .from(jobs)
        .where(
          and(
            eq(jobs.userId, userId),
            status ? eq(jobs.status, status) : undefined,
            cursor ? lt(jobs.id, cursor) : undefined,
          ),
        )
        .orderBy(desc(jobs.id))
        .limit(limit + 1)
        .all();
      const page = rows.slice(0, limit);
      const queued = page.some((row) => row.status === 'queued') ? queue.positions() : new Map();
      return {
        data: page.map((row) => toJob(row, queued.get(row.id) ?? null)),
        nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
      };
    },

    async countQueued() {
      return q.countQueued.get()?.n ?? 0;
    },

    async queue() {
      return queueNow();
    },

    async countRunning() {
      return q.countRunning.get()?.n ?? 0;
    },

    async seqs(jobIds) {
      if (jobIds.length === 0) return [];
      return db
        .select({ id: jobs.id, seq: jobs.seq })
        .from(jobs)
        .where(inArray(jobs.id, [...jobIds]))
        .all();
    },

    async claim(owner, at, leaseMs, maxQueueWaitMs = 0, models) {
      const wanted = models && new Set(models);
      const token = randomUUID();
      const claimed = await transaction(
        () => {
          // The kept read is the file's truth (every write of the queue here dropped it);
          // and a job it named that has left the queue is refused by startAttempt below.
          // The fair order of the jobs that may start, as PostgreSQL's claim ranks them.
          const [first] = fairOrder(
            queue
              .snapshot()
              .queued.filter(
                (job) => !isOverdue(job, maxQueueWaitMs, at) && (!wanted || wanted.has(job.model)),
              ),
            heldByUser(queue.snapshot().held),
          );
          const next = first && q.byId.get({ id: first.id });
          const job = next && record(next);
          const started = job && startAttempt(job, { owner, token, at, leaseUntil: at + leaseMs });
          if (!job || !started) return undefined;
          q.userStarted.run({ userId: job.userId, at });
          return { job: applyChange(job, started), event: write(w, ledger, job, started, at) };
        },
        (done) => done && emit([done.event]),
      );
      if (!claimed) return undefined;
      return { job: claimed.job, claim: { jobId: claimed.job.id, token } };
    },

    async heartbeat(claim, at, leaseMs) {
      const { changes } = q.heartbeat.run({
        id: claim.jobId,
        token: claim.token,
        leaseUntil: at + leaseMs,
      });
      return changes > 0;
    },

    async progress(claim, progress, at) {
      return change(claim.jobId, at, (job) => recordProgress(job, claim.token, progress));
    },

    async finish(claim, ending, at) {
      const inline = ending.status === 'succeeded' ? ending.output.inline : undefined;
      const saveOutput =
        inline && (() => q.insertOutput.run({ jobId: claim.jobId, bytes: asBuffer(inline) }));
      return change(claim.jobId, at, (job) => endJob(job, ending, at, claim.token), saveOutput);
    },

    async inlineOutput(jobId) {
      return q.outputOf.get({ jobId })?.bytes;
    },

    async removeInlineOutput(jobId) {
      db.delete(jobOutputs).where(eq(jobOutputs.jobId, jobId)).run();
    },

    async cancel(jobId, at) {
      return change(jobId, at, (job) => cancelJob(job, at));
    },

    async leaveThread(claim) {
      q.leaveThread.run({ id: claim.jobId, token: claim.token });
      queue.changed();
    },

    async expireQueued({ maxQueueWaitMs, at }) {
      const createdBefore = maxQueueWaitMs > 0 ? at - maxQueueWaitMs : -1;
      const events = await transaction(
        () =>
          q.overdue.all({ at, createdBefore }).map((row) => {
            const job = record(row);
            const decided = expireQueued(job, maxQueueWaitMs, at);
            return decided && write(w, ledger, job, decided, at);
          }),
        emit,
      );
      return events.filter((e): e is JobEvent => e !== undefined);
    },

    async requeue(claim, at) {
      return change(claim.jobId, at, (job) => giveBack(job, claim.token));
    },

    async releaseExpired({ expiredBefore, maxAttempts, at }) {
      const events = await transaction(() => {
        q.releaseEndedClaims.run({ before: expiredBefore });
        queue.changed();
        return q.expired.all({ before: expiredBefore }).map((row) => {
          const job = record(row);
          const decided = abandon(job, maxAttempts, at);
          return decided && write(w, ledger, job, decided, at);
        });
      }, emit);
      return events.filter((e): e is JobEvent => e !== undefined);
    },

    async outputsToExpire(before, limit) {
      return db
        .select({ id: jobs.id, file: jobs.outputFile })
        .from(jobs)
        .where(
          and(
            eq(jobs.status, 'succeeded'),
            isNotNull(jobs.outputFile),
            isNull(jobs.outputExpiredAt),
            lt(jobs.finishedAt, before),
          ),
        )
        .orderBy(asc(jobs.finishedAt))
        .limit(limit)
        .all()
        .map((r) => ({ id: r.id, file: r.file ?? '' }));
    },

    async markOutputExpired(jobId, at) {
      db.update(jobs).set({ outputExpiredAt: at }).where(eq(jobs.id, jobId)).run();
    },

    async eventsSince(jobId, since, limit) {
      const owner = q.ownerOf.get({ id: jobId });
      if (!owner) return [];
      const kept = recent.since(jobId, owner.seq, since, limit);
      if (kept) return kept;
      const rows = q.eventsAfter.all({ id: jobId, since, limit: limit ?? -1 });
      return rows.map((e) => ({
        jobId: e.jobId,
        userId: owner.userId,
        seq: e.seq,
        kind: e.kind,
        job: storedJob(e.snapshot),
        createdAt: e.createdAt,
      }));
    },
  };
  return { jobs: store, writes: batch };
}
