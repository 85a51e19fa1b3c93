import { and, asc, desc, eq, isNotNull, isNull, lt } from 'drizzle-orm';
import type { JobEventKind } from '../../../shared/schemas/jobs.ts';
import { toJob } from '../../jobs/view.ts';
import { newId } from '../../lib/ids.ts';
import { webhookPayload } from '../../webhooks/payload.ts';
import type { Db } from '../database.ts';
import { type JobRow, jobs } from '../schema/index.ts';
import type { JobEnding, JobEvent, JobStore } from '../store.ts';
import { type JobStatements, prepareJobStatements } from './job-statements.ts';
import type { LedgerWriter } from './ledger.ts';

/** What the job path writes with: its prepared statements and the ledger. */
interface Writers {
  q: JobStatements;
  ledger: LedgerWriter;
}

/** 1 for the next job to run; null once the job has left the queue. */
function queuePosition(q: JobStatements, row: JobRow): number | null {
  if (row.status !== 'queued') return null;
  return q.queuedUpTo.get({ id: row.id })?.n ?? null;
}

/**
 * Writes the event row for a job row whose `seq` was just incremented, and the webhook
 * delivery of the event when the job asked for it, in the same transaction.
 */
function recordEvent(
  q: JobStatements,
  row: JobRow,
  kind: JobEventKind,
  at: number,
  position = queuePosition(q, row),
): JobEvent {
  const job = toJob(row, position);
  q.insertEvent.run({ jobId: row.id, seq: row.seq, kind, snapshot: job, at });
  const delivery = row.webhookUrl !== null && row.webhookEvents?.includes(kind) === true;
  if (delivery) {
    q.insertDelivery.run({
      id: newId('msg', at),
      jobId: row.id,
      userId: row.userId,
      url: row.webhookUrl,
      event: kind,
      seq: row.seq,
      payload: webhookPayload(kind, job, at),
      at,
    });
  }
  return { jobId: row.id, userId: row.userId, seq: row.seq, kind, job, createdAt: at, delivery };
}

function end(q: JobStatements, jobId: string, ending: JobEnding, at: number): JobRow | undefined {
  switch (ending.status) {
    case 'succeeded':
      return q.succeed.get({ id: jobId, at, ...ending.output });
    case 'failed':
      return q.fail.get({ id: jobId, at, ...ending.error });
    case 'canceled':
      return q.cancel.get({ id: jobId, at });
  }
}

/** Ends a non-terminal job inside a transaction, refunding it unless it succeeded. */
function finishIn(w: Writers, jobId: string, ending: JobEnding, at: number): JobEvent | undefined {
  const row = end(w.q, jobId, ending, at);
  if (!row) return undefined;
  if (ending.status !== 'succeeded' && row.cost > 0) {
    w.ledger({ userId: row.userId, delta: row.cost, reason: 'refund', reference: row.id, at });
  }
  return recordEvent(w.q, row, ending.status, at);
}

/** Jobs and their events in SQLite. Listeners hear each event after its commit. */
export function sqliteJobs(
  db: Db,
  ledger: LedgerWriter,
  onListenerError: (error: unknown, event: JobEvent) => void = () => {},
): JobStore {
  const q = prepareJobStatements(db);
  const w: Writers = { q, ledger };
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
  // Statements prepared on the database run inside its transaction: one connection.
  const write = <T>(fn: () => T): T => db.transaction(() => fn(), { behavior: 'immediate' });

  return {
    async create(input) {
      const result = write(() => {
        if (input.idempotencyKey !== undefined) {
          const prior = q.byIdempotencyKey.get({ userId: input.userId, key: input.idempotencyKey });
          if (prior) {
            return prior.requestHash === input.requestHash
              ? ({ kind: 'replayed', job: toJob(prior, queuePosition(q, prior)) } as const)
              : ({ kind: 'idempotency_conflict', jobId: prior.id } as const);
          }
        }
        const queued = q.countQueued.get()?.n ?? 0;
        if (queued >= input.queueLimit) return { kind: 'queue_full', queued } as const;
        const balance = q.balance.get({ userId: input.userId })?.b ?? 0;
        // A balance taken below zero by a chargeback refuses every job until it is positive.
        if (balance < input.cost || balance < 0) {
          return { kind: 'insufficient_credits', balance, cost: input.cost } as const;
        }
        const at = Date.now();
        const id = newId('job', at);
        if (input.cost > 0) {
          ledger({ userId: input.userId, delta: -input.cost, reason: 'job', reference: id, at });
        }
        const row = q.insert.get({
          id,
          userId: input.userId,
          model: input.model,
          modelVersion: input.modelVersion,
          input: input.input,
          cost: input.cost,
          idempotencyKey: input.idempotencyKey ?? null,
          requestHash: input.requestHash,
          webhookUrl: input.webhook?.url ?? null,
          webhookEvents: input.webhook?.events ?? null,
          at,
        });
        if (!row) throw new Error('the job insert returned no row');
        // The newest id: it queues behind every job queued now.
        return { kind: 'created', event: recordEvent(q, row, 'queued', at, queued + 1) } as const;
      });
      if (result.kind !== 'created') return result;
      emit([result.event]);
      return { kind: 'created', job: result.event.job };
    },

    async get(userId, jobId) {
      const row = q.byIdForUser.get({ id: jobId, userId });
      return row && toJob(row, queuePosition(q, row));
    },

    async row(jobId) {
      return q.byId.get({ id: jobId });
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
        data: page.map((row) => toJob(row, queuePosition(q, row))),
        nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
      };
    },

    async countQueued() {
      return q.countQueued.get()?.n ?? 0;
    },

    async queue() {
      return q.queue.all();
    },

    async countRunning() {
      return q.countRunning.get()?.n ?? 0;
    },

    async claimNext(at) {
      const claimed = write(() => {
        const next = q.nextQueued.get();
        const row = next && q.claim.get({ id: next.id, at });
        return row && { row, event: recordEvent(q, row, 'started', at) };
      });
      if (!claimed) return undefined;
      emit([claimed.event]);
      return claimed.row;
    },

    async progress(jobId, progress) {
      const event = write(() => {
        const row = q.progress.get({ id: jobId, progress });
        return row && recordEvent(q, row, 'progress', Date.now());
      });
      emit([event]);
      return event;
    },

    async finish(jobId, ending, at) {
      const event = write(() => finishIn(w, jobId, ending, at));
      emit([event]);
      return event;
    },

    async requeue(jobId, at) {
      const event = write(() => {
        const row = q.requeue.get({ id: jobId, attemptsBack: 1 });
        return row && recordEvent(q, row, 'queued', at);
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
      const events = write(() =>
        db
          .select()
          .from(jobs)
          .where(eq(jobs.status, 'running'))
          .orderBy(asc(jobs.id))
          .all()
          .map((left) => {
            if (left.attempts >= maxAttempts) {
              const message = `The job was interrupted ${left.attempts} times by a restart.`;
              const error = { code: 'interrupted', message };
              return finishIn(w, left.id, { status: 'failed', error }, at);
            }
            // The attempt it was on stays used: a crash may have been the job's own doing.
            const row = q.requeue.get({ id: left.id, attemptsBack: 0 });
            return row && recordEvent(q, row, 'queued', at);
          }),
      );
      emit(events);
      return events.filter((e): e is JobEvent => e !== undefined);
    },

    async eventsSince(jobId, since) {
      const owner = q.ownerOf.get({ id: jobId });
      if (!owner) return [];
      return q.eventsAfter.all({ id: jobId, since }).map((e) => ({
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
