import type { Job, JobEventKind, JobPage, JobStatus } from '../../shared/schemas/jobs.ts';
import type { DeliveryStatus, JobRow, LedgerReason } from './schema/index.ts';

/**
 * The narrow interface between the origin and its database. Routes, services and the
 * scheduler see only this; `sqlite/` implements it today, and a PostgreSQL implementation
 * (SKIP LOCKED claims, LISTEN/NOTIFY events) can be added beside it.
 */
export interface Store {
  readonly accounts: AccountStore;
  readonly jobs: JobStore;
  readonly ledger: LedgerStore;
  readonly webhooks: WebhookStore;
  readonly billing: BillingStore;
  readonly stats: StatsStore;
  /**
   * Resolves once every commit made before the call is on disk. Await it before telling
   * anyone outside that a change happened (a debited job accepted, a Stripe event taken).
   */
  durable(): Promise<void>;
  close(): void;
}

export interface UserRecord {
  id: string;
  email: string;
  passwordHash: string;
  balance: number;
  webhookSecret: string;
  createdAt: number;
}

export interface ApiKeyRecord {
  id: string;
  userId: string;
  name: string;
  prefix: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface AccountStore {
  /**
   * Creates the user with a new webhook signing secret and, when `grant` > 0, its
   * `grant:<user id>` ledger row.
   */
  createUser(input: {
    email: string;
    passwordHash: string;
    grant: number;
  }): Promise<UserRecord | 'email_taken'>;
  findUserByEmail(email: string): Promise<UserRecord | undefined>;
  findUserById(id: string): Promise<UserRecord | undefined>;
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

export interface LedgerEntry {
  id: number;
  delta: number;
  reason: LedgerReason;
  reference: string;
  createdAt: number;
}

export interface LedgerStore {
  balance(userId: string): Promise<number>;
  entries(userId: string, limit: number): Promise<LedgerEntry[]>;
  /** Sum of the user's ledger rows, ignoring the cached balance (for checks and tests). */
  sum(userId: string): Promise<number>;
  /** Sum of every ledger row by reason, for metrics. */
  totals(): Promise<Record<string, number>>;
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

export interface NewJob {
  userId: string;
  model: string;
  modelVersion: string;
  input: Record<string, unknown>;
  cost: number;
  idempotencyKey: string | undefined;
  requestHash: string;
  queueLimit: number;
  webhook?: { url: string; events: JobEventKind[] } | undefined;
}

export type CreateJobResult =
  | { kind: 'created'; job: Job }
  | { kind: 'replayed'; job: Job }
  | { kind: 'idempotency_conflict'; jobId: string }
  | { kind: 'insufficient_credits'; balance: number; cost: number }
  | { kind: 'queue_full'; queued: number };

export interface JobOutputRecord {
  file: string;
  contentType: string;
  bytes: number;
  etag: string;
  runMs: number;
}

/** How a job ends. Every ending but `succeeded` refunds the job's cost, once. */
export type JobEnding =
  | { status: 'succeeded'; output: JobOutputRecord }
  | { status: 'failed'; error: { code: string; message: string } }
  | { status: 'canceled' };

export interface JobStore {
  /**
   * In one transaction: replays an idempotent request, or checks the queue bound and the
   * balance, debits `job:<id>`, inserts the job and its `queued` event.
   */
  create(input: NewJob): Promise<CreateJobResult>;
  /** The job if it exists and belongs to `userId`. */
  get(userId: string, jobId: string): Promise<Job | undefined>;
  row(jobId: string): Promise<JobRow | undefined>;
  list(
    userId: string,
    query: { status?: JobStatus; limit: number; cursor?: string },
  ): Promise<JobPage>;
  countQueued(): Promise<number>;
  /** The queued jobs in the order they will run (position = index + 1), with their seq. */
  queue(): Promise<{ id: string; seq: number }[]>;
  countRunning(): Promise<number>;
  /** The oldest queued job, moved to `running` (attempts + 1) with its `started` event. */
  claimNext(at: number): Promise<JobRow | undefined>;
  /** Records progress (0..1) of a running job; undefined if it is no longer running. */
  progress(jobId: string, progress: number): Promise<JobEvent | undefined>;
  /** Ends a job that is not yet terminal; undefined if it already was. */
  finish(jobId: string, ending: JobEnding, at: number): Promise<JobEvent | undefined>;
  /**
   * Graceful shutdown: puts a running job back in the queue, giving back the attempt it
   * used; undefined if it is no longer running.
   */
  requeue(jobId: string, at: number): Promise<JobEvent | undefined>;
  /** Succeeded jobs finished before `before` whose output file has not expired yet. */
  outputsToExpire(before: number, limit: number): Promise<{ id: string; file: string }[]>;
  /** Records that the job's output file was removed by retention. */
  markOutputExpired(jobId: string, at: number): Promise<void>;
  /**
   * At start: each job left `running` by a dead process goes back to the queue, or fails
   * with `interrupted` once it has used `maxAttempts`.
   */
  recoverInterrupted(maxAttempts: number, at: number): Promise<JobEvent[]>;
  /** The user's events of one job with `seq` > `since`, in order. */
  eventsSince(jobId: string, since: number): Promise<JobEvent[]>;
  /** Called after each commit that wrote an event. */
  onEvent(listener: (event: JobEvent) => void): () => void;
}

/** One outbound webhook message and how its delivery went. */
export interface WebhookDelivery {
  id: string;
  jobId: string;
  userId: string;
  url: string;
  event: JobEventKind;
  seq: number;
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: number;
  finishedAt: number | null;
}

export type AttemptOutcome =
  | { result: 'delivered'; statusCode: number }
  | { result: 'retry'; statusCode: number | null; error: string; nextAttemptAt: number }
  | { result: 'failed'; statusCode: number | null; error: string };

/** Outbound webhook deliveries; rows are written with the job events they report. */
export interface WebhookStore {
  /** Pending deliveries due at `now`, oldest first. */
  due(now: number, limit: number): Promise<WebhookDelivery[]>;
  /** Records one attempt (attempts + 1) and its outcome. */
  recordAttempt(id: string, outcome: AttemptOutcome, at: number): Promise<void>;
  forJob(jobId: string): Promise<WebhookDelivery[]>;
  /** The earliest `nextAttemptAt` among pending deliveries. */
  nextDue(): Promise<number | undefined>;
}

/** What a Checkout Session event says, with the configured pack it names (if any). */
export interface SessionFacts {
  sessionId: string;
  userId: string | null;
  packId: string | null;
  amount: number | null;
  currency: string | null;
  paymentIntent: string | null;
  /** The configured pack named by the event's metadata; undefined for an unknown pack. */
  pack: { credits: number; amount: number; currency: string } | undefined;
}

/** A verified Stripe event, reduced to what it does to the ledger. */
export type BillingEvent =
  | { kind: 'session_paid'; session: SessionFacts }
  | { kind: 'session_unpaid'; session: SessionFacts }
  | { kind: 'session_failed'; session: SessionFacts }
  | {
      kind: 'reversal';
      chargeId: string;
      paymentIntent: string | null;
      reason: 'refund' | 'dispute';
    }
  | { kind: 'ignored' };

export type BillingOutcome =
  | 'credited'
  | 'reversed'
  | 'recorded'
  | 'flagged'
  | 'ignored'
  | 'duplicate';

export interface PurchaseRecord {
  id: string;
  userId: string | null;
  packId: string;
  credits: number;
  amount: number;
  currency: string;
  status: string;
  flag: string | null;
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
   * Applies one Stripe event in one transaction with the record of its id: the same
   * event id a second time changes nothing and answers `duplicate`.
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

/** Reads for operations' statistics. */
export interface StatsStore {
  /** Jobs created in [from, to], of one user, or of every user when `userId` is undefined. */
  jobSamples(query: { from: number; to: number; userId?: string }): Promise<JobSample[]>;
}
