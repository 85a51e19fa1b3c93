import { randomUUID } from 'node:crypto';
import {
  and,
  asc,
  count,
  desc,
  eq,
  inArray,
  isNotNull,
  isNull,
  lt,
  lte,
  ne,
  or,
} from 'drizzle-orm';
import type { JobEventKind } from '../../../shared/job-states.ts';
import { fairOrder, heldByUser, positionsIn } from '../../jobs/fair-queue.ts';
import { countsProgress, eventOf } from '../../jobs/job-events.ts';
import {
  abandon,
  applyChange,
  cancelJob,
  decideCreate,
  endJob,
  expireQueued,
  giveBack,
  type JobChange,
  recordProgress,
  startAttempt,
} from '../../jobs/job-rules.ts';
import { storedJob, toJob } from '../../jobs/view.ts';
import { asBuffer } from '../../lib/as-buffer.ts';
import type { JobRecord } from '../records.ts';
import type { JobEvent, JobStore, QueueSnapshot } from '../store.ts';
import type { Db, Tx } from './database.ts';
import { type JobStatements, prepareJobStatements } from './job-statements.ts';
import { writeLedger } from './ledger.ts';
import { on, runChained } from './prepared.ts';
import { type JobRow, jobOutputs, jobs, webhookDeliveries } from './schema/index.ts';

/** A row is a record: the compiler checks the columns match the neutral type. */
const record = (row: JobRow): JobRecord => row;

type Reader = Db | Tx;

/** The queue now: queued jobs in the fair order, and one row per job holding a thread. */
async function queueSnapshot(q: JobStatements, r: Reader): Promise<QueueSnapshot> {
  const [facts] = await on(r, q.queue);
  const held = facts?.held ?? [];
  return { queued: fairOrder(facts?.queued ?? [], heldByUser(held)), held };
}

/** Each queued job's position in the fair order (1 starts next). */
async function positions(q: JobStatements, r: Reader): Promise<Map<string, number>> {
  return positionsIn((await queueSnapshot(q, r)).queued);
}

/** 1 for the next job to start; null once the job has left the queue. */
async function queuePosition(q: JobStatements, r: Reader, job: JobRecord): Promise<number | null> {
  if (job.status !== 'queued') return null;
  return (await positions(q, r)).get(job.id) ?? null;
}

/**
 * Rows in the order their writes lock their users' rows (a refund), by user then job: two
 * sweeps on two origins lock users in one order, so neither waits on the other in a cycle.
 */
const byUser = <T extends { userId: string; id: string }>(rows: readonly T[]): T[] =>
  [...rows].sort((a, b) =>
    a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  );

/** What writing an event needs beside the job: the statements, the progress budget. */
interface EventWriter {
  q: JobStatements;
  /** `progress` deliveries a job may write. */
  maxProgress: number;
}

/**
 * Writes the event of `job` (as it is now) and its webhook delivery, a job writing at most
 * `maxProgress` progress deliveries; answers the event.
 */
async function recordEvent(
  { q, maxProgress }: EventWriter,
  tx: Tx,
  job: JobRecord,
  kind: JobEventKind,
  at: number,
  position?: number,
  /** The job's row is written by the same statement as its event (`saveWithEvent`). */
  saving = false,
): Promise<JobEvent> {
  const written = countsProgress(job, kind)
    ? ((await on(tx, q.progressDeliveries, { jobId: job.id }))[0]?.n ?? 0)
    : 0;
  const { event, delivery } = eventOf(
    job,
    kind,
    at,
    position ?? (await queuePosition(q, tx, job)),
    { max: maxProgress, written },
  );
  // The insert's trigger sends every origin the hint `<job id>:<seq>` at commit.
  if (saving) {
    await runChained(tx, q.saveWithEvent, { ...job, kind, snapshot: event.job, at });
  } else {
    await on(tx, q.insertEvent, {
      jobId: job.id,
      seq: job.seq,
      kind,
      snapshot: event.job,
      createdAt: at,
    });
  }
  if (delivery) {
    const { at: createdAt, ...rest } = delivery;
    await tx.insert(webhookDeliveries).values({ ...rest, nextAttemptAt: createdAt, createdAt });
  }
  return event;
}

/**
 * Writes what a rule decided for a job (its columns, ledger row and event) in `tx`; the row
 * and the event in one statement, unless the job is queued (its event's position reads the
 * queue as the row's write leaves it).
 */
async function write(
  w: EventWriter,
  tx: Tx,
  job: JobRecord,
  change: JobChange,
  at: number,
): Promise<JobEvent> {
  const next = applyChange(job, change);
  if (change.ledger) await writeLedger(tx, change.ledger);
  if (next.status === 'queued') {
    await on(tx, w.q.save, { ...next });
    return recordEvent(w, tx, next, change.kind, at);
  }
  return recordEvent(w, tx, next, change.kind, at, undefined, true);
}

/**
 * Jobs and their events in PostgreSQL, at READ COMMITTED with row locks: a job's row is
 * locked (`FOR UPDATE`) by every change of it, so a cancel and a finish from two origins
 * are applied one after the other and the rules see the first's result; the user's row is
 * locked by every create, so two origins cannot both spend the last credit or both insert
 * one Idempotency-Key; claims and sweeps skip rows another transaction holds
 * (`SKIP LOCKED`), so two origins never take the same job. No transaction retries.
 */
export function postgresJobs(
  db: Db,
  emit: (events: readonly (JobEvent | undefined)[]) => void,
  maxProgress: number,
): Omit<JobStore, 'onCommit'> {
  const q = prepareJobStatements(db);
  const w: EventWriter = { q, maxProgress };
  /** Locks the job, asks `rule`, writes its answer, then tells the listeners. */
  const change = async (
    jobId: string,
    at: number,
    rule: (job: JobRecord) => JobChange | undefined,
    also?: (tx: Tx) => Promise<unknown>,
  ): Promise<JobEvent | undefined> => {
    const event = await db.transaction(async (tx) => {
      const [row] = await on(tx, q.forUpdate, { id: jobId });
      const decided = row && rule(record(row));
      if (!row || !decided) return undefined;
      await also?.(tx);
      return write(w, tx, record(row), decided, at);
    });
    emit([event]);
    return event;
  };

  /**
   * Asks `rule` of each of the locked `rows` and writes its answers, in the order their
   * refunds lock their users' rows (`byUser`); answers the events.
   */
  const writeEach = async (
    tx: Tx,
    rows: readonly JobRow[],
    rule: (job: JobRecord) => JobChange | undefined,
    at: number,
  ): Promise<JobEvent[]> => {
    const written: JobEvent[] = [];
    for (const row of byUser(rows)) {
      const decided = rule(record(row));
      if (decided) written.push(await write(w, tx, record(row), decided, at));
    }
    return written;
  };

  return {
    async create(input) {
      const result = await db.transaction(async (tx) => {
        const [user] = await on(tx, q.userForUpdate, { userId: input.userId });
        const [prior] =
          input.idempotencyKey === undefined
            ? []
            : await on(tx, q.byIdempotencyKey, {
                userId: input.userId,
                key: input.idempotencyKey,
              });
        // Read after the user's row is locked (a statement of its own, so its snapshot sees
        // every create of this user committed before the lock came), in one statement: a
        // claim or re-queue of the user's job between two counts would count it twice or not.
        const [counts] = await on(tx, q.createCounts, { userId: input.userId });
        const decision = decideCreate(input, {
          prior: prior && record(prior),
          queued: counts?.queued ?? 0,
          userJobs: counts?.userJobs ?? 0,
          balance: user?.balance ?? 0,
        });
        if (decision.kind !== 'create') return decision;
        const { job, debit } = decision;
        await on(tx, q.insert, { ...job });
        if (debit) await writeLedger(tx, debit);
        // The queue with the new job in it: its position, and the answer's estimate.
        const queue = await queueSnapshot(q, tx);
        const position = positionsIn(queue.queued).get(job.id);
        const event = await recordEvent(w, tx, job, 'queued', input.at, position);
        return { kind: 'event', event, queue } as const;
      });
      switch (result.kind) {
        case 'event':
          emit([result.event]);
          return { kind: 'created', job: result.event.job, queue: result.queue };
        case 'replayed':
          return {
            kind: 'replayed',
            job: toJob(result.job, await queuePosition(q, db, result.job)),
          };
        default:
          return result;
      }
    },

    async get(userId, jobId) {
      const [row] = await on(db, q.byIdForUser, { id: jobId, userId });
      return row && toJob(row, await queuePosition(q, db, row));
    },

    async record(jobId) {
      const [row] = await db.select().from(jobs).where(eq(jobs.id, jobId));
      return row && record(row);
    },

    async list(userId, { status, limit, cursor }) {
      const rows = await db
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
        .limit(limit + 1);
      const page = rows.slice(0, limit);
      const queued = page.some((row) => row.status === 'queued')
        ? await positions(q, db)
        : new Map();
      return {
        data: page.map((row) => toJob(row, queued.get(row.id) ?? null)),
        nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
      };
    },

    async countQueued() {
      const [row] = await on(db, q.countQueued);
      return row?.n ?? 0;
    },

    async queue() {
      // One statement, so one snapshot: a job moving between its two reads is not seen twice.
      return queueSnapshot(q, db);
    },

    async countRunning() {
      const [row] = await db.select({ n: count() }).from(jobs).where(eq(jobs.status, 'running'));
      return row?.n ?? 0;
    },

    async seqs(jobIds) {
      if (jobIds.length === 0) return [];
      return db.select({ id: jobs.id, seq: jobs.seq }).from(jobs).where(inArray(jobs.id, jobIds));
    },

    async claim(owner, at, leaseMs, maxQueueWaitMs = 0, models) {
      const token = randomUUID();
      const claimed = await db.transaction(async (tx) => {
        // The first of the fair order (`q.next`) among `models`, overdue jobs passed over.
        const [found] = await on(tx, q.next, {
          at,
          createdAfter: maxQueueWaitMs > 0 ? at - maxQueueWaitMs : Number.MIN_SAFE_INTEGER,
          models: models ? [...models] : null,
        });
        const job = found && record(found.job);
        const started = job && startAttempt(job, { owner, token, at, leaseUntil: at + leaseMs });
        if (!job || !started) return undefined;
        await on(tx, q.userStarted, { userId: job.userId, at });
        return { job: applyChange(job, started), event: await write(w, tx, job, started, at) };
      });
      if (!claimed) return undefined;
      emit([claimed.event]);
      return { job: claimed.job, claim: { jobId: claimed.job.id, token } };
    },

    async heartbeat(claim, at, leaseMs) {
      const renewed = await db
        .update(jobs)
        .set({ leaseUntil: at + leaseMs })
        .where(
          and(
            eq(jobs.id, claim.jobId),
            eq(jobs.status, 'running'),
            eq(jobs.claimToken, claim.token),
          ),
        )
        .returning({ id: jobs.id });
      return renewed.length > 0;
    },

    async progress(claim, progress, at) {
      return change(claim.jobId, at, (job) => recordProgress(job, claim.token, progress));
    },

    async finish(claim, ending, at) {
      const inline = ending.status === 'succeeded' ? ending.output.inline : undefined;
      const saveOutput =
        inline &&
        ((tx: Tx) => on(tx, q.insertOutput, { jobId: claim.jobId, bytes: asBuffer(inline) }));
      return change(claim.jobId, at, (job) => endJob(job, ending, at, claim.token), saveOutput);
    },

    async inlineOutput(jobId) {
      const [row] = await db
        .select({ bytes: jobOutputs.bytes })
        .from(jobOutputs)
        .where(eq(jobOutputs.jobId, jobId));
      return row?.bytes;
    },

    async removeInlineOutput(jobId) {
      await db.delete(jobOutputs).where(eq(jobOutputs.jobId, jobId));
    },

    async cancel(jobId, at) {
      return change(jobId, at, (job) => cancelJob(job, at));
    },

    async leaveThread(claim) {
      await db
        .update(jobs)
        .set({ claimedBy: null, claimToken: null, leaseUntil: null })
        .where(
          and(
            eq(jobs.id, claim.jobId),
            ne(jobs.status, 'running'),
            eq(jobs.claimToken, claim.token),
          ),
        );
    },

    async expireQueued({ maxQueueWaitMs, at }) {
      const events = await db.transaction(async (tx) => {
        const rows = await tx
          .select()
          .from(jobs)
          .where(
            and(
              eq(jobs.status, 'queued'),
              or(
                lte(jobs.deadlineAt, at),
                maxQueueWaitMs > 0 ? lte(jobs.createdAt, at - maxQueueWaitMs) : undefined,
              ),
            ),
          )
          .orderBy(asc(jobs.id))
          .for('update', { skipLocked: true });
        return writeEach(tx, rows, (job) => expireQueued(job, maxQueueWaitMs, at), at);
      });
      emit(events);
      return events;
    },

    async requeue(claim, at) {
      return change(claim.jobId, at, (job) => giveBack(job, claim.token));
    },

    async releaseExpired({ expiredBefore, maxAttempts, at }) {
      const events = await db.transaction(async (tx) => {
        // Ended jobs whose claim outlived its process: released, skipping rows another
        // transaction holds (another origin's sweep releases those), so two sweeps never wait
        // on each other's rows.
        const ended = await tx
          .select({ id: jobs.id })
          .from(jobs)
          .where(
            and(
              isNotNull(jobs.claimToken),
              ne(jobs.status, 'running'),
              or(isNull(jobs.leaseUntil), lt(jobs.leaseUntil, expiredBefore)),
            ),
          )
          .for('update', { skipLocked: true });
        if (ended.length > 0) {
          await tx
            .update(jobs)
            .set({ claimedBy: null, claimToken: null, leaseUntil: null })
            .where(
              inArray(
                jobs.id,
                ended.map((row) => row.id),
              ),
            );
        }
        // A claim renewed meanwhile no longer matches when its row is locked: it is skipped.
        const rows = await tx
          .select()
          .from(jobs)
          .where(
            and(
              eq(jobs.status, 'running'),
              or(isNull(jobs.leaseUntil), lt(jobs.leaseUntil, expiredBefore)),
            ),
          )
          .orderBy(asc(jobs.id))
          .for('update', { skipLocked: true });
        return writeEach(tx, rows, (job) => abandon(job, maxAttempts, at), at);
      });
      emit(events);
      return events;
    },

    async outputsToExpire(before, limit) {
      const rows = await db
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
        .limit(limit);
      return rows.map((r) => ({ id: r.id, file: r.file ?? '' }));
    },

    async markOutputExpired(jobId, at) {
      await db.update(jobs).set({ outputExpiredAt: at }).where(eq(jobs.id, jobId));
    },

    async eventsSince(jobId, since, limit) {
      const rows = await on(db, q.eventsAfter, { id: jobId, since, limit: limit ?? null });
      return rows.map((row) => ({ ...row, job: storedJob(row.job) }));
    },
  };
}
