import { and, asc, count, eq, gt, isNotNull, isNull, lt, lte, ne, or, sql } from 'drizzle-orm';
import { byColumn, createdJobColumns, savedJobColumns } from '../job-columns.ts';
import type { Db } from './database.ts';
import { plainSelect } from './plain-select.ts';
import { jobEvents, jobOutputs, jobs, users, webhookDeliveries } from './schema/index.ts';

const p = sql.placeholder;
/** A placeholder where drizzle's `.set()` takes SQL rather than a value. */
const v = (name: string) => sql`${sql.placeholder(name)}`;

/**
 * The job path's statements, prepared once per database. Building and compiling the SQL
 * on every call cost over ten times what running it does (measured: 216 µs against 16 µs
 * for the progress update), and a job runs some twenty of them.
 */
export function prepareJobStatements(db: Db) {
  return {
    countQueued: db.select({ n: count() }).from(jobs).where(eq(jobs.status, 'queued')).prepare(),
    countRunning: db.select({ n: count() }).from(jobs).where(eq(jobs.status, 'running')).prepare(),
    /** The queued jobs in id order: the fair order is made of them (`fairOrder`). */
    queued: plainSelect(
      db,
      db
        .select({
          id: jobs.id,
          userId: jobs.userId,
          model: jobs.model,
          seq: jobs.seq,
          createdAt: jobs.createdAt,
          deadlineAt: jobs.deadlineAt,
          userLastStartedAt: users.lastStartedAt,
        })
        .from(jobs)
        .innerJoin(users, eq(users.id, jobs.userId))
        .where(eq(jobs.status, 'queued'))
        .orderBy(asc(jobs.id)),
    ),
    /** A claim records when its user's job last started: the fair order's tie-break. */
    userStarted: db
      .update(users)
      .set({ lastStartedAt: v('at') })
      .where(eq(users.id, p('userId')))
      .prepare(),
    /** One row per job holding a thread (its claim not released). */
    holders: plainSelect(
      db,
      db
        .select({
          userId: jobs.userId,
          model: jobs.model,
          startedAt: jobs.startedAt,
          claimedBy: jobs.claimedBy,
        })
        .from(jobs)
        .where(isNotNull(jobs.claimToken)),
    ),
    /** The user's jobs queued or holding a thread, in one statement: what the cap counts. */
    userJobs: db
      .select({
        n: sql<number>`(select count(*) from jobs where status = 'queued' and user_id = ${p('userId')}) + (select count(*) from jobs where claim_token is not null and user_id = ${p('userId')})`,
      })
      .from(users)
      .where(eq(users.id, p('userId')))
      .prepare(),
    /** Queued jobs past their deadline, or created before `createdBefore`. */
    overdue: db
      .select()
      .from(jobs)
      .where(
        and(
          eq(jobs.status, 'queued'),
          or(lte(jobs.deadlineAt, p('at')), lte(jobs.createdAt, p('createdBefore'))),
        ),
      )
      .orderBy(asc(jobs.id))
      .prepare(),
    /** The claim of an ended job whose task left its thread. */
    leaveThread: db
      .update(jobs)
      .set({ claimedBy: null, claimToken: null, leaseUntil: null })
      .where(and(eq(jobs.id, p('id')), ne(jobs.status, 'running'), eq(jobs.claimToken, p('token'))))
      .prepare(),
    /** Claims of ended jobs whose lease ended: their process died before `leaveThread`. */
    releaseEndedClaims: db
      .update(jobs)
      .set({ claimedBy: null, claimToken: null, leaseUntil: null })
      .where(
        and(
          isNotNull(jobs.claimToken),
          ne(jobs.status, 'running'),
          or(isNull(jobs.leaseUntil), lt(jobs.leaseUntil, p('before'))),
        ),
      )
      .prepare(),
    byId: db
      .select()
      .from(jobs)
      .where(eq(jobs.id, p('id')))
      .prepare(),
    byIdForUser: db
      .select()
      .from(jobs)
      .where(and(eq(jobs.id, p('id')), eq(jobs.userId, p('userId'))))
      .prepare(),
    byIdempotencyKey: db
      .select()
      .from(jobs)
      .where(and(eq(jobs.userId, p('userId')), eq(jobs.idempotencyKey, p('key'))))
      .prepare(),
    balance: db
      .select({ b: users.balance })
      .from(users)
      .where(eq(users.id, p('userId')))
      .prepare(),
    insert: db.insert(jobs).values(byColumn(createdJobColumns, p)).prepare(),
    /** Writes every column a rule may change (`JobChange.set`) and the seq. */
    save: db
      .update(jobs)
      .set(byColumn(savedJobColumns, v))
      .where(eq(jobs.id, p('id')))
      .prepare(),
    heartbeat: db
      .update(jobs)
      .set({ leaseUntil: v('leaseUntil') })
      .where(and(eq(jobs.id, p('id')), eq(jobs.status, 'running'), eq(jobs.claimToken, p('token'))))
      .prepare(),
    /** Running jobs whose lease ended (a row from before leases has none: it is abandoned). */
    expired: db
      .select()
      .from(jobs)
      .where(
        and(
          eq(jobs.status, 'running'),
          or(isNull(jobs.leaseUntil), lt(jobs.leaseUntil, p('before'))),
        ),
      )
      .orderBy(asc(jobs.id))
      .prepare(),
    insertEvent: db
      .insert(jobEvents)
      .values({
        jobId: p('jobId'),
        seq: p('seq'),
        kind: p('kind'),
        snapshot: p('snapshot'),
        createdAt: p('at'),
      })
      .prepare(),
    /** The `progress` deliveries a job has written: what is left of its budget. */
    progressDeliveries: db
      .select({ n: count() })
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.jobId, p('jobId')), eq(webhookDeliveries.event, 'progress')))
      .prepare(),
    insertDelivery: db
      .insert(webhookDeliveries)
      .values({
        id: p('id'),
        jobId: p('jobId'),
        userId: p('userId'),
        url: p('url'),
        event: p('event'),
        seq: p('seq'),
        payload: p('payload'),
        nextAttemptAt: p('at'),
        createdAt: p('at'),
      })
      .prepare(),
    insertOutput: db
      .insert(jobOutputs)
      .values({ jobId: p('jobId'), bytes: p('bytes') })
      .prepare(),
    outputOf: db
      .select({ bytes: jobOutputs.bytes })
      .from(jobOutputs)
      .where(eq(jobOutputs.jobId, p('jobId')))
      .prepare(),
    /** The job's owner and the seq of its latest event. */
    ownerOf: db
      .select({ userId: jobs.userId, seq: jobs.seq })
      .from(jobs)
      .where(eq(jobs.id, p('id')))
      .prepare(),
    /** The first `limit` events after `since` (a negative limit is none: SQLite's rule). */
    eventsAfter: db
      .select()
      .from(jobEvents)
      .where(and(eq(jobEvents.jobId, p('id')), gt(jobEvents.seq, p('since'))))
      .orderBy(asc(jobEvents.seq))
      .limit(p('limit'))
      .prepare(),
  };
}

export type JobStatements = ReturnType<typeof prepareJobStatements>;
