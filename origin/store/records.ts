import type { JobErrorCode } from '../../shared/errors.ts';
import type { JobEventKind, JobStatus } from '../../shared/job-states.ts';

/**
 * What the store keeps, as plain records that name no database: every store implementation
 * maps its rows to these, and the domain (`origin/jobs`, `origin/billing`) decides over them.
 * The `as const` lists are shared by each dialect's column enums and by the domain.
 */

/** Why a balance moved; with its reference, the unique key of a ledger row. */
export const ledgerReasons = [
  'grant',
  'purchase',
  'job',
  'refund',
  'chargeback',
  'adjustment',
] as const;
export type LedgerReason = (typeof ledgerReasons)[number];

export const deliveryStatuses = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

export const purchaseStatuses = ['open', 'pending', 'paid', 'failed', 'flagged'] as const;
export type PurchaseStatus = (typeof purchaseStatuses)[number];

export const reversalKinds = ['refund', 'dispute'] as const;
export type ReversalKind = (typeof reversalKinds)[number];

/** One job, as stored. Times are epoch milliseconds. */
export interface JobRecord {
  id: string;
  userId: string;
  model: string;
  modelVersion: string;
  status: JobStatus;
  progress: number;
  input: Record<string, unknown>;
  cost: number;
  idempotencyKey: string | null;
  /** SHA-256 of the request (model + input + webhook) that first used the idempotency key. */
  requestHash: string | null;
  /** Times the job was started (claimed); a graceful stop gives its attempt back. */
  attempts: number;
  errorCode: JobErrorCode | null;
  errorMessage: string | null;
  outputFile: string | null;
  outputContentType: string | null;
  outputBytes: number | null;
  outputEtag: string | null;
  /** When retention removed the output; the job keeps its record. */
  outputExpiredAt: number | null;
  /** Inference time the worker measured. */
  runMs: number | null;
  webhookUrl: string | null;
  webhookEvents: JobEventKind[] | null;
  /** Sequence number of the job's latest event. */
  seq: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Still queued at this time (epoch ms): the job ends canceled `deadline_exceeded`. */
  deadlineAt: number | null;
  /** The output format asked for (`wav`, `mp3`); null: the model's own output. */
  outputFormat: string | null;
  /**
   * The process running the job (its owner id), while its attempt holds a thread: while it
   * runs, and after a cancel of the running job until its task has left the thread.
   */
  claimedBy: string | null;
  /**
   * The attempt's fence: a write that names another token changes nothing. Set while the
   * attempt holds a thread (see `claimedBy`): the jobs holding one are those with a token.
   */
  claimToken: string | null;
  /** Past this the claim is abandoned and any process may take the job back. */
  leaseUntil: number | null;
}

/** One row of the credit ledger. */
export interface LedgerEntry {
  id: number;
  delta: number;
  reason: LedgerReason;
  reference: string;
  createdAt: number;
}

/** A ledger row to write; the store writes it at most once per (reason, reference). */
export interface LedgerEntryInput {
  userId: string;
  delta: number;
  reason: LedgerReason;
  reference: string;
  at: number;
}

export interface UserRecord {
  id: string;
  email: string;
  passwordHash: string;
  balance: number;
  webhookSecret: string;
  createdAt: number;
  /** Raised to end every session of the user at once; a token of an older version is refused. */
  sessionVersion: number;
  /** Granted by an operator, never by registering. */
  isAdmin: boolean;
  /** When a job of this user last started (epoch ms), null before any: the fair order's tie-break. */
  lastStartedAt: number | null;
}

export interface ApiKeyRecord {
  id: string;
  userId: string;
  name: string;
  prefix: string;
  createdAt: number;
  lastUsedAt: number | null;
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
  /** Attempts begun, counted when an attempt is claimed (before anything is sent). */
  attempts: number;
  nextAttemptAt: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: number;
  finishedAt: number | null;
}

/** A delivery to write with the job event it reports; `at` is its creation and first due time. */
export type NewDelivery = Pick<
  WebhookDelivery,
  'id' | 'jobId' | 'userId' | 'url' | 'event' | 'seq' | 'payload'
> & { at: number };

/** One Stripe Checkout Session and what became of it. */
export interface PurchaseRecord {
  /** The Checkout Session id (`cs_…`). */
  id: string;
  userId: string | null;
  packId: string;
  credits: number;
  /** In the currency's smallest unit, as Stripe counts it. */
  amount: number;
  currency: string;
  paymentIntent: string | null;
  status: PurchaseStatus;
  /** Why an event about this session was not credited. */
  flag: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A refund or dispute of a charge, kept even before the purchase it reverses is known. */
export interface ReversalRecord {
  chargeId: string;
  paymentIntent: string;
  kind: ReversalKind;
  createdAt: number;
}
