import { and, asc, count, eq, gt, isNull, or, sql } from 'drizzle-orm';
import { byColumn, createdJobColumns, savedJobColumns } from '../job-columns.ts';
import type { QueueSnapshot } from '../store.ts';
import type { Db } from './database.ts';
import { chained } from './prepared.ts';
import { jobEvents, jobOutputs, jobs, users, webhookDeliveries } from './schema/index.ts';

const p = sql.placeholder;
/** A placeholder where drizzle's `.set()` takes SQL rather than a value. */
const v = (name: string) => sql`${sql.placeholder(name)}`;

/** The jobs holding a thread of the user of each queued row, counted where it is ordered. */
const heldByItsUser = sql`(select count(*) from jobs as holder where holder.claim_token is not null and holder.user_id = ${jobs.userId})`;
/** The claim's models (`models`, a text array; null: every model). */
const ofModels = sql`(${p('models')}::text[] is null or ${jobs.model} = any(${p('models')}::text[]))`;
/** When a job of the user of each queued row last started; never: first. */
const itsUserLastStart = sql`(select u.last_started_at from users as u where u.id = ${jobs.userId}) asc nulls first`;

/**
 * The job path's statements, built once and named (run with `on`, on the pool or in a
 * transaction), as SQLite's are (`../sqlite/job-statements.ts`).
 */
export function prepareJobStatements(db: Db) {
  const ranked = db
    .select({
      id: jobs.id,
      k: sql<number>`row_number() over (partition by ${jobs.userId} order by ${jobs.id})`.as('k'),
    })
    .from(jobs)
    .where(
      and(
        eq(jobs.status, 'queued'),
        or(isNull(jobs.deadlineAt), gt(jobs.deadlineAt, p('at'))),
        gt(jobs.createdAt, p('createdAfter')),
        ofModels,
      ),
    )
    .as('ranked');
  /** Writes every column a rule may change (`JobChange.set`) and the seq. */
  const saveJob = db
    .update(jobs)
    .set(byColumn(savedJobColumns, v))
    .where(eq(jobs.id, p('id')));
  /** The event of the job `saveJob` writes: its id and seq, and `kind`, `snapshot`, `at`. */
  const eventOfSaved = db.insert(jobEvents).values({
    jobId: p('id'),
    seq: p('seq'),
    kind: p('kind'),
    snapshot: p('snapshot'),
    createdAt: p('at'),
  });
  return {
    /** The job, its row locked: every change of a job goes through it. */
    forUpdate: db
      .select()
      .from(jobs)
      .where(eq(jobs.id, p('id')))
      .for('update')
      .prepare('job_for_update'),
    byIdForUser: db
      .select()
      .from(jobs)
      .where(and(eq(jobs.id, p('id')), eq(jobs.userId, p('userId'))))
      .prepare('job_by_id_for_user'),
    save: saveJob.prepare('job_save'),
    /** A job's save and its event (not `queued`: no queue read between them) in one round trip. */
    saveWithEvent: chained('job_save_event', saveJob, eventOfSaved),
    insert: db.insert(jobs).values(byColumn(createdJobColumns, p)).prepare('job_insert'),
    insertEvent: db
      .insert(jobEvents)
      .values({
        jobId: p('jobId'),
        seq: p('seq'),
        kind: p('kind'),
        snapshot: p('snapshot'),
        createdAt: p('createdAt'),
      })
      .prepare('job_event_insert'),
    insertOutput: db
      .insert(jobOutputs)
      .values({ jobId: p('jobId'), bytes: p('bytes') })
      .prepare('job_output_insert'),
    /** The `progress` deliveries a job has written: what is left of its budget. */
    progressDeliveries: db
      .select({ n: count() })
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.jobId, p('jobId')), eq(webhookDeliveries.event, 'progress')))
      .prepare('job_progress_deliveries'),
    /**
     * The queue's facts in one statement (one round trip, one snapshot): the queued jobs in id
     * order, which the fair order is made of (`fairOrder`), and one row per job holding a
     * thread (its claim not released), each as a JSON array.
     */
    queue: db
      .select({
        queued: sql<QueueSnapshot['queued']>`(select coalesce(json_agg(json_build_object(
          'id', j.id, 'userId', j.user_id, 'model', j.model, 'seq', j.seq,
          'createdAt', j.created_at, 'deadlineAt', j.deadline_at,
          'userLastStartedAt', u.last_started_at) order by j.id), '[]'::json)
          from ${jobs} j join ${users} u on u.id = j.user_id where j.status = 'queued')`,
        held: sql<QueueSnapshot['held']>`(select coalesce(json_agg(json_build_object(
          'userId', h.user_id, 'model', h.model, 'startedAt', h.started_at,
          'claimedBy', h.claimed_by)), '[]'::json)
          from ${jobs} h where h.claim_token is not null)`,
      })
      .from(sql`(values (1)) as one (x)`)
      .prepare('jobs_queue'),
    countQueued: db
      .select({ n: count() })
      .from(jobs)
      .where(eq(jobs.status, 'queued'))
      .prepare('jobs_count_queued'),
    /** The user's balance, the user's row locked: creates of one user go one at a time. */
    userForUpdate: db
      .select({ balance: users.balance })
      .from(users)
      .where(eq(users.id, p('userId')))
      .for('update')
      .prepare('job_user_for_update'),
    byIdempotencyKey: db
      .select()
      .from(jobs)
      .where(and(eq(jobs.userId, p('userId')), eq(jobs.idempotencyKey, p('key'))))
      .prepare('job_by_idempotency_key'),
    /**
     * What a create counts, in one statement: the queued jobs (the queue's bound), and the
     * user's jobs queued or holding a thread (the user's cap).
     */
    createCounts: db
      .select({
        queued: sql<number>`(select count(*) from jobs where status = 'queued')`.mapWith(Number),
        userJobs:
          sql<number>`(select count(*) from jobs where status = 'queued' and user_id = ${p('userId')}) + (select count(*) from jobs where claim_token is not null and user_id = ${p('userId')})`.mapWith(
            Number,
          ),
      })
      .from(users)
      .where(eq(users.id, p('userId')))
      .prepare('job_create_counts'),
    /**
     * The first of the fair order (`fairOrder`, in SQL): by turn (threads the user holds +
     * the job's rank among the user's queued jobs), then the user's last start, then id;
     * overdue jobs (`isOverdue`: past `at`, or created by `createdAfter`) passed over. By
     * turn, not by threads held alone: a job another origin is claiming now is skipped
     * (SKIP LOCKED), and the next is then the next user's first job, not the same user's second.
     */
    next: db
      .select({ job: jobs })
      .from(jobs)
      .innerJoin(ranked, eq(ranked.id, jobs.id))
      .where(eq(jobs.status, 'queued'))
      .orderBy(sql`${heldByItsUser} + ${ranked.k}`, itsUserLastStart, asc(jobs.id))
      .limit(1)
      .for('update', { of: jobs, skipLocked: true })
      .prepare('job_claim_next'),
    /** A claim records when its user's job last started: the fair order's tie-break. */
    userStarted: db
      .update(users)
      .set({ lastStartedAt: v('at') })
      .where(eq(users.id, p('userId')))
      .prepare('job_user_started'),
    /** The events after `since`, the first `limit` (null: all, PostgreSQL's LIMIT NULL). */
    eventsAfter: db
      .select({
        jobId: jobEvents.jobId,
        userId: jobs.userId,
        seq: jobEvents.seq,
        kind: jobEvents.kind,
        job: jobEvents.snapshot,
        createdAt: jobEvents.createdAt,
      })
      .from(jobEvents)
      .innerJoin(jobs, eq(jobs.id, jobEvents.jobId))
      .where(and(eq(jobEvents.jobId, p('id')), gt(jobEvents.seq, p('since'))))
      .orderBy(asc(jobEvents.seq))
      .limit(p('limit'))
      .prepare('job_events_after'),
  };
}

export type JobStatements = ReturnType<typeof prepareJobStatements>;
