import type { JobErrorCode } from '../../shared/errors.ts';
import type { Job, JobEventKind, JobPage, JobStatus } from '../../shared/schemas/jobs.ts';
import type { BillingEvent, BillingOutcome } from '../billing/stripe-reconciliation.ts';
import type {
  ApiKeyRecord,
  JobRecord,
  LedgerEntry,
  LedgerEntryInput,
  LedgerReason,
  PurchaseRecord,
  UserRecord,
  WebhookDelivery,
} from './records.ts';

/**
 * The narrow interface between the origin and its database, in the manner of BullMQ's queue
 * backend: no connection, transaction or dialect shows through. Routes, services, the
 * scheduler and the hub see only this; `sqlite/` implements it on one file, `postgres/` on a
 * database that many origins share. The rules live in the domain (`origin/jobs/job-rules.ts`,
 * `origin/billing/stripe-reconciliation.ts`): a store reads facts, asks a rule, and writes its
 * answer in one transaction. One conformance suite (`test/unit/store/`) runs against every
 * implementation.
 */
export interface Store {
  readonly accounts: AccountStore;
  readonly sessions: SessionStore;
  readonly jobs: JobStore;
  readonly ledger: LedgerStore;
  readonly webhooks: WebhookStore;
  readonly billing: BillingStore;
  readonly stats: StatsStore;
  readonly files: FileStore;
  /** Every job event committed by any process sharing this database. */
  readonly events: EventFeed;
  /**
   * True when this process is the database's only user (an embedded file): every claim it
   * finds at start was left by a dead process, whatever its lease says.
   */
  readonly exclusive: boolean;
  /**
   * Resolves once every commit made before the call is durable. Await it before telling
   * anyone outside that a change happened (a debited job accepted, a Stripe event taken).
   */
  durable(): Promise<void>;
  close(): Promise<void>;
}

/** A file a user uploaded (`POST /v1/files`), as stored; its bytes are in the outputs' store. */
export interface FileRecord {
  id: string;
  userId: string;
  name: string | null;
  /** What it was checked to be, canonical (`audio/wav`, `audio/mpeg`, `audio/flac`, `audio/ogg`). */
  contentType: string;
  bytes: number;
  sha256: string;
  storageKey: string;
  createdAt: number;
  expiresAt: number;
}

export interface FileStore {
  /** Records the file unless its user keeps `maxFiles` already (then false), in one transaction. */
  create(file: FileRecord, maxFiles: number): Promise<boolean>;
  /** The file if it exists, belongs to `userId` and has not expired at `at`. */
  get(userId: string, id: string, at: number): Promise<FileRecord | undefined>;
  /** The user's files not expired at `at`, newest first, at most `limit`. */
  list(userId: string, at: number, limit: number): Promise<FileRecord[]>;
  /** Removes the user's file and answers it (its bytes are the caller's to remove), or undefined. */
  remove(userId: string, id: string): Promise<FileRecord | undefined>;
  /** Removes up to `limit` files expired at `at`, oldest first, and answers them. */
  takeExpired(at: number, limit: number): Promise<FileRecord[]>;
}

/** A committed state change of a job, as the WebSocket hub delivers it. */
export interface JobEvent {
  jobId: string;
  userId: string;
  seq: number;
  kind: JobEventKind;
  job: Job;
  createdAt: number;
  /** A webhook delivery of this event was written with it. */
  delivery?: boolean;
}

export type Unlisten = () => void;

/**
 * What every process must hear: the events committed by any process on the database (the
 * WebSocket hub, queue moves, the cancel of a job this process runs). Per job, events come
 * in `seq` order, but a listener may miss one (a lost notification): the hub replays gaps
 * from `eventsSince`, as a reconnecting client does.
 */
export interface EventFeed {
  listen(listener: (event: JobEvent) => void): Unlisten;
}

export interface AccountStore {
  /**
   * Creates the user with its signup ledger rows (a free grant) in one transaction, or
   * answers `email_taken`.
   */
  createUser(user: UserRecord, credits: LedgerEntryInput[]): Promise<UserRecord | 'email_taken'>;
  findUserByEmail(email: string): Promise<UserRecord | undefined>;
  findUserById(id: string): Promise<UserRecord | undefined>;
  /**
   * An operator grants (or takes back) administration of the account with this (normalised)
   * email; false when no account has it. Registering never makes an administrator.
   */
  setAdmin(email: string, admin: boolean): Promise<boolean>;
  /** The administrators, oldest account first. */
  listAdmins(): Promise<Pick<UserRecord, 'id' | 'email' | 'createdAt'>[]>;
  createApiKey(input: {
    userId: string;
    name: string;
    prefix: string;
    keyHash: string;
  }): Promise<ApiKeyRecord>;
  listApiKeys(userId: string): Promise<ApiKeyRecord[]>;
  /** False when the key does not exist, is not the user's, or is already revoked. */
  revokeApiKey(userId: string, keyId: string): Promise<boolean>;
  findApiKey(keyHash: string): Promise<ApiKeyRecord | undefined>;
  touchApiKey(keyId: string, at: number): Promise<void>;
}

/** A session token as the store knows it: its id (`jti`), its user, when it expires (epoch ms). */
export interface SessionToken {
  tokenId: string;
  userId: string;
  expiresAt: number;
}

/**
 * What ends sessions, shared by every origin on the database: a sign-out records the token's
 * id as ended until it expires; a password change raises the user's session version, which
 * every token carries, ending them all. Every request with a session token reads `find`; the
 * WebSocket hubs re-check their sockets' credentials with the batched reads.
 */
export interface SessionStore {
  /** The user a session token names, and whether that token was ended: one read. */
  find(userId: string, tokenId: string): Promise<{ user: UserRecord; ended: boolean } | undefined>;
  /** Ends one session token (idempotent). */
  end(token: SessionToken): Promise<void>;
  /** Forgets ended tokens that expired before `before` (they are refused anyway); answers how many. */
  forgetEnded(before: number): Promise<number>;
  /**
   * Sets the password hash `to` if the stored one is still `from`, and raises the user's session
   * version in the same write, ending every session: the new version, or undefined when the user
   * is missing or its password changed meanwhile (nothing is written then).
   */
  changePassword(userId: string, from: string, to: string): Promise<number | undefined>;
  /** Of these token ids, those ended. */
  ended(tokenIds: readonly string[]): Promise<string[]>;
  /** The session version of each of these users (those that exist). */
  versions(userIds: readonly string[]): Promise<{ id: string; sessionVersion: number }[]>;
  /** Of these API key ids, those that exist and are not revoked. */
  liveKeys(keyIds: readonly string[]): Promise<string[]>;
}

export interface LedgerStore {
  balance(userId: string): Promise<number>;
  entries(userId: string, limit: number): Promise<LedgerEntry[]>;
  /** Sum of the user's ledger rows, ignoring the cached balance (for checks and tests). */
  sum(userId: string): Promise<number>;
  /** Sum of every ledger row by reason, for metrics. */
  totals(): Promise<Record<string, number>>;
}

export interface NewJob {
  /** Made by the caller (`newId('job', at)`), so ids sort by creation time. */
  id: string;
  at: number;
  userId: string;
  model: string;
  modelVersion: string;
  input: Record<string, unknown>;
  cost: number;
  idempotencyKey: string | undefined;
  requestHash: string;
  /** Queued jobs of every user, at most (`QUEUE_LIMIT`). */
  queueLimit: number;
  /** A user's jobs queued or holding a thread, at most (`USER_JOB_LIMIT`). */
  userJobLimit: number;
  /** Still queued at this time (epoch ms): canceled `deadline_exceeded`. */
  deadlineAt?: number | undefined;
  webhook?: { url: string; events: JobEventKind[] } | undefined;
  /** The output format asked for (`POST /v1/jobs` `format`); undefined: the model's own. */
  format?: string | undefined;
}

export type CreateJobResult =
  /** `queue`: the queue as the create read it, the new job in it (estimates need not read it again). */
  | { kind: 'created'; job: Job; queue?: QueueSnapshot }
  | { kind: 'replayed'; job: Job }
  | { kind: 'idempotency_conflict'; jobId: string }
  | { kind: 'insufficient_credits'; balance: number; cost: number }
  | { kind: 'invalid_deadline' }
  | { kind: 'too_many_jobs'; jobs: number; limit: number }
  | { kind: 'queue_full'; queued: number };

export interface JobOutputRecord {
  /** The output's key: in the output store, or `inlineOutputKey` for bytes kept with the job. */
  file: string;
  contentType: string;
  bytes: number;
  etag: string;
  runMs: number;
  /** A small output's bytes, written by `finish` in the transaction that ends the job. */
  inline?: Uint8Array;
}

/** How a job ends. Every ending but `succeeded` refunds the job's cost, once. */
export type JobEnding =
  | { status: 'succeeded'; output: JobOutputRecord }
  | { status: 'failed'; error: { code: JobErrorCode; message: string } }
  | { status: 'canceled'; error?: { code: JobErrorCode; message: string } };

/**
 * The queue as positions and estimates need it: `queued` in the fair order
 * (`origin/jobs/fair-queue.ts`), and one entry per job holding a thread.
 */
export interface QueueSnapshot {
  queued: {
    id: string;
    userId: string;
    model: string;
    seq: number;
    createdAt: number;
    deadlineAt: number | null;
    /** When a job of its user last started (epoch ms), null if none did: a claim records it. */
    userLastStartedAt: number | null;
  }[];
  /** One entry per job holding a thread, with the origin (`ORIGIN_ID`) that holds it. */
  held: { userId: string; model: string; startedAt: number | null; claimedBy: string | null }[];
}

/** One attempt at running a job: the writes of the attempt name its token. */
export interface Claim {
  jobId: string;
  token: string;
}

export interface JobStore {
  /**
   * In one transaction: replays an idempotent request, or asks `decideCreate` (queue bound,
   * balance) and debits `job:<id>`, inserts the job and its `queued` event.
   */
  create(input: NewJob): Promise<CreateJobResult>;
  /** The job if it exists and belongs to `userId`. */
  get(userId: string, jobId: string): Promise<Job | undefined>;
  record(jobId: string): Promise<JobRecord | undefined>;
  list(
    userId: string,
    query: { status?: JobStatus; limit: number; cursor?: string },
  ): Promise<JobPage>;
  countQueued(): Promise<number>;
  /** The queue now: its jobs in the fair order they will start, and the threads held. */
  queue(): Promise<QueueSnapshot>;
  countRunning(): Promise<number>;
  /** The latest seq of each of these jobs (those that exist). */
  seqs(jobIds: readonly string[]): Promise<{ id: string; seq: number }[]>;
  /**
   * Takes the first queued job of the fair order (`origin/jobs/fair-queue.ts`) for `owner`:
   * it is `running` (attempts + 1) with its `started` event, leased until `at + leaseMs`,
   * fenced by the claim's token, and its user's last start is `at`. Two processes never take
   * the same job.
   */
  claim(
    owner: string,
    at: number,
    leaseMs: number,
    /** Jobs overdue at `at` (`isOverdue`: past their deadline or this wait) are passed over. */
    maxQueueWaitMs?: number,
    /**
     * Only jobs of these models (those whose pools have a free thread here), the fair order
     * taken among them; every model when undefined.
     */
    models?: readonly string[],
  ): Promise<{ job: JobRecord; claim: Claim } | undefined>;
  /** Extends the claim's lease; false once the claim is stale (the job ended or was taken back). */
  heartbeat(claim: Claim, at: number, leaseMs: number): Promise<boolean>;
  /** Records progress (0..1) of the claim's attempt; undefined once the claim is stale. */
  progress(claim: Claim, progress: number, at: number): Promise<JobEvent | undefined>;
  /** Ends the claim's attempt (refunded unless it succeeded); undefined when the claim is stale. */
  finish(claim: Claim, ending: JobEnding, at: number): Promise<JobEvent | undefined>;
  /** The bytes of a job's inline output (`JobOutputRecord.inline`); undefined if none. */
  inlineOutput(jobId: string): Promise<Uint8Array | undefined>;
  /** Removes a job's inline output (retention); nothing if it has none. */
  removeInlineOutput(jobId: string): Promise<void>;
  /** The user's cancel: ends a queued or running job, refunded; undefined if it had ended. */
  cancel(jobId: string, at: number): Promise<JobEvent | undefined>;
  /** Graceful shutdown: the claim's job goes back to the queue, its attempt given back. */
  requeue(claim: Claim, at: number): Promise<JobEvent | undefined>;
  /**
   * The task of a job canceled while it ran has left its thread: the claim is released (no
   * event; the job ended at its cancel). Nothing changes if the claim is not the job's.
   */
  leaveThread(claim: Claim): Promise<void>;
  /**
   * Each queued job past its deadline, or queued `maxQueueWaitMs` (0: no bound), ends
   * canceled `deadline_exceeded`, refunded (`expireQueued` in the job rules).
   */
  expireQueued(query: { maxQueueWaitMs: number; at: number }): Promise<JobEvent[]>;
  /**
   * Each running job whose lease ended before `expiredBefore` goes back to the queue, or
   * fails `interrupted` once it has used `maxAttempts` (`abandon` in the job rules); the
   * claim of an ended job whose lease ended (canceled while running, its process gone
   * before `leaveThread`) is released.
   */
  releaseExpired(query: {
    expiredBefore: number;
    maxAttempts: number;
    at: number;
  }): Promise<JobEvent[]>;
  /** Succeeded jobs finished before `before` whose output has not expired yet. */
  outputsToExpire(before: number, limit: number): Promise<{ id: string; file: string }[]>;
  /** Records that the job's output was removed by retention. */
  markOutputExpired(jobId: string, at: number): Promise<void>;
  /** The events of one job with `seq` > `since`, in order; the first `limit` of them when given. */
  eventsSince(jobId: string, since: number, limit?: number): Promise<JobEvent[]>;
  /**
   * Hears each event this process committed, once: what only the process that made a change
   * acts on (metrics counters, waking its webhook deliverer). Other processes' events come
   * through `Store.events`.
   */
  onCommit(listener: (event: JobEvent) => void): Unlisten;
}

/** A delivery claimed for one attempt; the attempt's outcome is recorded under its token. */
export interface ClaimedDelivery extends WebhookDelivery {
  token: string;
}

export type AttemptOutcome =
  | { result: 'delivered'; statusCode: number }
  | { result: 'retry'; statusCode: number | null; error: string; nextAttemptAt: number }
  | { result: 'failed'; statusCode: number | null; error: string };

/** What `claimDue` may take. */
export interface DeliveryClaim {
  now: number;
  /** Deliveries at most (this process's free slots). */
  limit: number;
  /** A claimed delivery is not due again before `now + claimMs`. */
  claimMs: number;
  /**
   * A user with this many claims under way (on any process: claimed, neither recorded nor
   * ended) gets no more; the others are served first by how few they have under way.
   */
  maxInFlightPerUser: number;
  /** A due delivery that has begun this many attempts fails instead of being claimed. */
  maxAttempts: number;
}

/** Outbound webhook deliveries; rows are written with the job events they report. */
export interface WebhookStore {
  /**
   * Claims due pending deliveries: each claim counts an attempt before anything is sent, and
   * the delivery is not due again before the claim ends, so no other process sends it
   * meanwhile and an attempt whose process died is retried after it, behind what was due
   * before. Users take turns: each user's oldest due first, up to `maxInFlightPerUser` under
   * way. A delivery that has used `maxAttempts` (its last attempt never recorded an outcome)
   * is failed, not claimed.
   */
  claimDue(query: DeliveryClaim): Promise<ClaimedDelivery[]>;
  /** Records the outcome of a claimed attempt; false (nothing changed) if the claim is stale. */
  recordAttempt(
    claim: { id: string; token: string },
    outcome: AttemptOutcome,
    at: number,
  ): Promise<boolean>;
  forJob(jobId: string): Promise<WebhookDelivery[]>;
  /** The earliest `nextAttemptAt` later than `after` among pending deliveries. */
  nextDue(after: number): Promise<number | undefined>;
}

export interface BillingStore {
  /** Records a Checkout Session this origin created, before the user pays. */
  recordCheckout(input: {
    sessionId: string;
    userId: string;
    packId: string;
    credits: number;
    amount: number;
    currency: string;
  }): Promise<void>;
  /**
   * Applies one Stripe event (`reconcile` in the billing rules) in one transaction with the
   * record of its id: the same event id a second time changes nothing, `duplicate`.
   */
  applyEvent(
    event: { id: string; type: string; effect: BillingEvent },
    at: number,
  ): Promise<BillingOutcome>;
  purchase(sessionId: string): Promise<PurchaseRecord | undefined>;
}

/** What quality statistics need of one job: its model, outcome and times (epoch ms). */
export interface JobSample {
  model: string;
  status: JobStatus;
  errorCode: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

/** What credit statistics need of one ledger row. */
export interface LedgerSample {
  reason: LedgerReason;
  delta: number;
  createdAt: number;
}

/** Jobs queued and running now, counted by the store. */
export interface JobLoad {
  /** Queued jobs per model. */
  queued: { model: string; jobs: number }[];
  /** Running jobs per model and per origin holding their claim (null: none holds it). */
  running: { model: string; originId: string | null; jobs: number }[];
}

/**
 * Reads for operations' statistics and a user's usage. Windows are read by creation time
 * through indexes (per user, and overall), so a window costs its own rows, however long the
 * tables.
 */
export interface StatsStore {
  /** Jobs created in [from, to], of one user, or of every user when `userId` is undefined. */
  jobSamples(query: { from: number; to: number; userId?: string }): Promise<JobSample[]>;
  /** Ledger rows written in [from, to], of one user, or of every user when `userId` is undefined. */
  ledgerSamples(query: { from: number; to: number; userId?: string }): Promise<LedgerSample[]>;
  /** Every user's queued and running jobs, counted through an index on status. */
  load(): Promise<JobLoad>;
}
