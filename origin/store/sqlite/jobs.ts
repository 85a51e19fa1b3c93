import {
  and,
  asc,
  count,
  desc,
  eq,
  gt,
  inArray,
  isNotNull,
  isNull,
  lt,
  lte,
  type SQL,
  sql,
} from 'drizzle-orm';
import type { JobEventKind } from '../../../shared/schemas/jobs.ts';
import { toJob } from '../../jobs/view.ts';
import { newId } from '../../lib/ids.ts';
import { webhookPayload } from '../../webhooks/payload.ts';
import type { Db } from '../database.ts';
import { type JobRow, jobEvents, jobs, users, webhookDeliveries } from '../schema/index.ts';
import type { JobEnding, JobEvent, JobStore } from '../store.ts';
import { applyLedgerEntry } from './ledger.ts';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
type Reader = Db | Tx;

const open = ['queued', 'running'] as const;

function countWhere(db: Reader, where: SQL | undefined): number {
  return db.select({ n: count() }).from(jobs).where(where).get()?.n ?? 0;
}

/** 1 for the next job to run; null once the job has left the queue. */
function queuePosition(db: Reader, row: JobRow): number | null {
  if (row.status !== 'queued') return null;
  return countWhere(db, and(eq(jobs.status, 'queued'), lte(jobs.id, row.id)));
}

/**
 * Writes the event row for a job row whose `seq` was just incremented, and the webhook
 * delivery of the event when the job asked for it, in the same transaction.
 */
function recordEvent(tx: Tx, row: JobRow, kind: JobEventKind, at: number): JobEvent {
  const job = toJob(row, queuePosition(tx, row));
  tx.insert(jobEvents)
    .values({ jobId: row.id, seq: row.seq, kind, snapshot: job, createdAt: at })
    .run();
  if (row.webhookUrl !== null && row.webhookEvents?.includes(kind)) {
    tx.insert(webhookDeliveries)
      .values({
        id: newId('msg', at),
        jobId: row.id,
        userId: row.userId,
        url: row.webhookUrl,
        event: kind,
        seq: row.seq,
        payload: webhookPayload(kind, job, at),
        nextAttemptAt: at,
        createdAt: at,
      })
      .run();
  }
  return { jobId: row.id, userId: row.userId, seq: row.seq, kind, job, createdAt: at };
}

function endingColumns(ending: JobEnding, at: number): Partial<JobRow> {
  switch (ending.status) {
    case 'succeeded':
      return {
        status: 'succeeded',
        progress: 1,
        finishedAt: at,
        outputFile: ending.output.file,
        outputContentType: ending.output.contentType,
        outputBytes: ending.output.bytes,
        outputEtag: ending.output.etag,
        runMs: ending.output.runMs,
      };
    case 'failed':
      return {
        status: 'failed',
        finishedAt: at,
        errorCode: ending.error.code,
        errorMessage: ending.error.message,
      };
    case 'canceled':
      return { status: 'canceled', finishedAt: at };
  }
}

/** Ends a non-terminal job inside `tx`, refunding it unless it succeeded. */
function finishIn(tx: Tx, jobId: string, ending: JobEnding, at: number): JobEvent | undefined {
  const row = tx
    .update(jobs)
    .set({ ...endingColumns(ending, at), seq: sql`${jobs.seq} + 1` })
    .where(and(eq(jobs.id, jobId), inArray(jobs.status, open)))
    .returning()
    .get();
  if (!row) return undefined;
  if (ending.status !== 'succeeded' && row.cost > 0) {
    applyLedgerEntry(tx, {
      userId: row.userId,
      delta: row.cost,
      reason: 'refund',
      reference: row.id,
      at,
    });
  }
  return recordEvent(tx, row, ending.status, at);
}

/** Jobs and their events in SQLite. Listeners hear each event after its commit. */
export function sqliteJobs(
  db: Db,
  onListenerError: (error: unknown, event: JobEvent) => void = () => {},
): JobStore {
  const listeners = new Set<(event: JobEvent) => void>();
  // The transaction has committed: a listener that throws must not turn that into an
  // error for the caller, nor keep the event from the other listeners.
  const emit = (events: readonly (JobEvent | undefined)[]): void => {
    for (const event of events) {
      if (!event) continue;
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (error) {
          onListenerError(error, event);
        }
      }
    }
  };
  const write = <T>(fn: (tx: Tx) => T): T => db.transaction(fn, { behavior: 'immediate' });

  return {
    async create(input) {
      const result = write((tx) => {
        if (input.idempotencyKey !== undefined) {
          const prior = tx
            .select()
            .from(jobs)
            .where(
              and(eq(jobs.userId, input.userId), eq(jobs.idempotencyKey, input.idempotencyKey)),
            )
            .get();
          if (prior) {
            return prior.requestHash === input.requestHash
              ? ({ kind: 'replayed', job: toJob(prior, queuePosition(tx, prior)) } as const)
              : ({ kind: 'idempotency_conflict', jobId: prior.id } as const);
          }
        }
        const queued = countWhere(tx, eq(jobs.status, 'queued'));
        if (queued >= input.queueLimit) return { kind: 'queue_full', queued } as const;
        const balance =
          tx.select({ b: users.balance }).from(users).where(eq(users.id, input.userId)).get()?.b ??
          0;
        // A balance taken below zero by a chargeback refuses every job until it is positive.
        if (balance < input.cost || balance < 0) {
          return { kind: 'insufficient_credits', balance, cost: input.cost } as const;
        }
        const at = Date.now();
        const id = newId('job', at);
        if (input.cost > 0) {
          applyLedgerEntry(tx, {
            userId: input.userId,
            delta: -input.cost,
            reason: 'job',
            reference: id,
            at,
          });
        }
        const row = tx
          .insert(jobs)
          .values({
            id,
            userId: input.userId,
            model: input.model,
            modelVersion: input.modelVersion,
            status: 'queued',
            input: input.input,
            cost: input.cost,
            idempotencyKey: input.idempotencyKey ?? null,
            requestHash: input.requestHash,
            webhookUrl: input.webhook?.url ?? null,
            webhookEvents: input.webhook?.events ?? null,
            seq: 1,
            createdAt: at,
          })
          .returning()
          .get();
        return { kind: 'created', event: recordEvent(tx, row, 'queued', at) } as const;
      });
      if (result.kind !== 'created') return result;
      emit([result.event]);
      return { kind: 'created', job: result.event.job };
    },

    async get(userId, jobId) {
      const row = db
        .select()
        .from(jobs)
        .where(and(eq(jobs.id, jobId), eq(jobs.userId, userId)))
        .get();
      return row && toJob(row, queuePosition(db, row));
    },

    async row(jobId) {
      return db.select().from(jobs).where(eq(jobs.id, jobId)).get();
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
      return {
        data: page.map((row) => toJob(row, queuePosition(db, row))),
        nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
      };
    },

    async countQueued() {
      return countWhere(db, eq(jobs.status, 'queued'));
    },

    async queue() {
      return db
        .select({ id: jobs.id, seq: jobs.seq })
        .from(jobs)
        .where(eq(jobs.status, 'queued'))
        .orderBy(asc(jobs.id))
        .all();
    },

    async countRunning() {
      return countWhere(db, eq(jobs.status, 'running'));
    },

    async claimNext(at) {
      const event = write((tx) => {
        const next = tx
          .select({ id: jobs.id })
          .from(jobs)
          .where(eq(jobs.status, 'queued'))
          .orderBy(asc(jobs.id))
          .limit(1)
          .get();
        if (!next) return undefined;
        const row = tx
          .update(jobs)
          .set({
            status: 'running',
            startedAt: at,
            progress: 0,
            attempts: sql`${jobs.attempts} + 1`,
            seq: sql`${jobs.seq} + 1`,
          })
          .where(eq(jobs.id, next.id))
          .returning()
          .get();
        return row && { row, event: recordEvent(tx, row, 'started', at) };
      });
      if (!event) return undefined;
      emit([event.event]);
      return event.row;
    },

    async progress(jobId, progress) {
      const event = write((tx) => {
        const row = tx
          .update(jobs)
          .set({ progress, seq: sql`${jobs.seq} + 1` })
          .where(and(eq(jobs.id, jobId), eq(jobs.status, 'running')))
          .returning()
          .get();
        return row && recordEvent(tx, row, 'progress', Date.now());
      });
      emit([event]);
      return event;
    },

    async finish(jobId, ending, at) {
      const event = write((tx) => finishIn(tx, jobId, ending, at));
      emit([event]);
      return event;
    },

    async requeue(jobId, at) {
      const event = write((tx) => {
        const row = tx
          .update(jobs)
          .set({
            status: 'queued',
            startedAt: null,
            progress: 0,
            attempts: sql`max(${jobs.attempts} - 1, 0)`,
            seq: sql`${jobs.seq} + 1`,
          })
          .where(and(eq(jobs.id, jobId), eq(jobs.status, 'running')))
          .returning()
          .get();
        return row && recordEvent(tx, row, 'queued', at);
      });
      emit([event]);
      return event;
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

    async recoverInterrupted(maxAttempts, at) {
      const events = write((tx) =>
        tx
          .select()
          .from(jobs)
          .where(eq(jobs.status, 'running'))
          .orderBy(asc(jobs.id))
          .all()
          .map((left) => {
            if (left.attempts >= maxAttempts) {
              const message = `The job was interrupted ${left.attempts} times by a restart.`;
              return finishIn(
                tx,
                left.id,
                { status: 'failed', error: { code: 'interrupted', message } },
                at,
              );
            }
            const row = tx
              .update(jobs)
              .set({ status: 'queued', startedAt: null, progress: 0, seq: sql`${jobs.seq} + 1` })
              .where(eq(jobs.id, left.id))
              .returning()
              .get();
            return row && recordEvent(tx, row, 'queued', at);
          }),
      );
      emit(events);
      return events.filter((e): e is JobEvent => e !== undefined);
    },

    async eventsSince(jobId, since) {
      const owner = db.select({ userId: jobs.userId }).from(jobs).where(eq(jobs.id, jobId)).get();
      if (!owner) return [];
      return db
        .select()
        .from(jobEvents)
        .where(and(eq(jobEvents.jobId, jobId), gt(jobEvents.seq, since)))
        .orderBy(asc(jobEvents.seq))
        .all()
        .map((e) => ({
          jobId: e.jobId,
          userId: owner.userId,
          seq: e.seq,
          kind: e.kind,
          job: e.snapshot,
          createdAt: e.createdAt,
        }));
    },

    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
