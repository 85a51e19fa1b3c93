import type {
  LedgerEntryInput,
  PurchaseRecord,
  PurchaseStatus,
  ReversalRecord,
} from '../store/records.ts';

/**
 * The money rules of Stripe events, as pure functions. A store reads the facts an event
 * needs (in the order `stripeReadPlan` gives), asks `reconcile` what to write, and writes it
 * with the record of the event id, all in one transaction. Nothing here reads or writes.
 */

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

/** What the store read for one event, inside the event's transaction. */
export interface StripeFacts {
  /** The purchase concerned: by session id (session events) or by payment intent (reversals). */
  purchase: PurchaseRecord | undefined;
  /** The user the session names exists. */
  userExists: boolean;
  /** `purchase:<session id>` is already in the ledger. */
  credited: boolean;
  /** The refunds and disputes recorded for the payment intent concerned. */
  reversals: ReversalRecord[];
  /** Of `chargesToCheck`, those already taken back (`chargeback:<charge id>` rows). */
  chargedBack: string[];
}

/** What to write for the event, besides the record of its id. */
export interface StripeDecision {
  outcome: Exclude<BillingOutcome, 'duplicate'>;
  /** The purchase as it is after the event: a new row, or the update of the one read. */
  purchase?: { record: PurchaseRecord; isNew: boolean };
  /** A refund or dispute to record (kept if that charge's reversal is already there). */
  reversal?: ReversalRecord;
  ledger: LedgerEntryInput[];
}

/** The first reads of an event: its purchase, and the user and credit of a session event. */
export function stripeReadPlan(effect: BillingEvent): {
  purchase: { sessionId: string } | { paymentIntent: string } | undefined;
  userId: string | null;
  creditReference: string | null;
} {
  switch (effect.kind) {
    case 'session_paid':
    case 'session_unpaid':
    case 'session_failed':
      return {
        purchase: { sessionId: effect.session.sessionId },
        userId: effect.session.userId,
        creditReference: effect.session.sessionId,
      };
    case 'reversal':
      return {
        purchase:
          effect.paymentIntent === null ? undefined : { paymentIntent: effect.paymentIntent },
        userId: null,
        creditReference: null,
      };
    case 'ignored':
      return { purchase: undefined, userId: null, creditReference: null };
  }
}

/** Then: the payment intent whose reversals matter, once the purchase was read. */
export function reversalIntent(
  effect: BillingEvent,
  purchase: PurchaseRecord | undefined,
): string | null {
  if (effect.kind === 'reversal') return effect.paymentIntent;
  if (effect.kind === 'ignored') return null;
  return effect.session.paymentIntent ?? purchase?.paymentIntent ?? null;
}

/** Last: the charges whose take-back is looked up in the ledger. */
export function chargesToCheck(effect: BillingEvent, reversals: ReversalRecord[]): string[] {
  const charges = reversals.map((r) => r.chargeId);
  if (effect.kind === 'reversal' && !charges.includes(effect.chargeId)) {
    charges.push(effect.chargeId);
  }
  return charges;
}

/**
 * Decides what a verified event does. Only a paid session whose pack, amount, currency and
 * user match what was sold credits `purchase:<session id>`; a refund or dispute takes the
 * whole pack back once per payment (`chargeback:<charge id>`), also when it arrived before
 * the purchase; a session that does not match is recorded as flagged and credits nothing.
 */
export function reconcile(effect: BillingEvent, facts: StripeFacts, at: number): StripeDecision {
  switch (effect.kind) {
    case 'session_paid':
    case 'session_unpaid':
    case 'session_failed':
      return reconcileSession(effect, facts, at);
    case 'reversal':
      return reconcileReversal(effect, facts, at);
    case 'ignored':
      return { outcome: 'ignored', ledger: [] };
  }
}

/** Why the session's facts may not be credited, or undefined when they match. */
function mismatch(s: SessionFacts, facts: StripeFacts): string | undefined {
  const known = facts.purchase;
  if (known) {
    if (s.userId !== null && s.userId !== known.userId) return 'user differs from checkout';
    if (s.packId !== null && s.packId !== known.packId) return 'pack differs from checkout';
    if (s.amount !== known.amount || s.currency !== known.currency) {
      return `paid ${s.amount} ${s.currency}, checkout was ${known.amount} ${known.currency}`;
    }
    return undefined;
  }
  if (!s.pack) return `unknown pack ${s.packId}`;
  if (s.userId === null) return 'no user on the session';
  if (!facts.userExists) return `unknown user ${s.userId}`;
  if (s.amount !== s.pack.amount || s.currency !== s.pack.currency) {
    return `paid ${s.amount} ${s.currency}, pack costs ${s.pack.amount} ${s.pack.currency}`;
  }
  return undefined;
}

/** The purchase after the event: the known one changed, or a new one from the session. */
function upsert(
  s: SessionFacts,
  known: PurchaseRecord | undefined,
  change: Pick<PurchaseRecord, 'status' | 'flag'>,
  at: number,
): { record: PurchaseRecord; isNew: boolean } {
  if (known) {
    const paymentIntent = s.paymentIntent ?? known.paymentIntent;
    return { record: { ...known, ...change, paymentIntent, updatedAt: at }, isNew: false };
  }
  const record: PurchaseRecord = {
    id: s.sessionId,
    userId: s.userId !== null && change.status !== 'flagged' ? s.userId : null,
    packId: s.packId ?? 'unknown',
    credits: s.pack?.credits ?? 0,
    amount: s.amount ?? 0,
    currency: s.currency ?? '',
    paymentIntent: s.paymentIntent,
    createdAt: at,
    updatedAt: at,
    ...change,
  };
  return { record, isNew: true };
}

/** Takes back a paid purchase's credits for a reversal of its payment, once per payment. */
function takeBack(
  purchase: PurchaseRecord,
  chargeId: string,
  facts: StripeFacts,
  at: number,
): LedgerEntryInput | undefined {
  if (purchase.status !== 'paid' || purchase.userId === null || !purchase.paymentIntent) {
    return undefined;
  }
  if (facts.chargedBack.length > 0) return undefined;
  return {
    userId: purchase.userId,
    delta: -purchase.credits,
    reason: 'chargeback',
    reference: chargeId,
    at,
  };
}

function reconcileSession(
  effect: Extract<BillingEvent, { session: SessionFacts }>,
  facts: StripeFacts,
  at: number,
): StripeDecision {
  const s = effect.session;
  const known = facts.purchase;
  if (effect.kind !== 'session_paid') {
    // A late "pending" or "failed" never undoes a payment already credited.
    if (known?.status === 'paid' || known?.status === 'flagged') {
      return { outcome: 'recorded', ledger: [] };
    }
    // A session this origin never recorded is checked now: a later payment is checked
    // against this row, and its user must exist.
    const problem = known ? undefined : mismatch(s, facts);
    const status: PurchaseStatus = effect.kind === 'session_unpaid' ? 'pending' : 'failed';
    const change = problem ? { status: 'flagged' as const, flag: problem } : { status, flag: null };
    return {
      outcome: problem ? 'flagged' : 'recorded',
      purchase: upsert(s, known, change, at),
      ledger: [],
    };
  }
  if (known?.status === 'flagged') return { outcome: 'flagged', ledger: [] };
  const problem = mismatch(s, facts);
  if (problem) {
    const purchase = upsert(s, known, { status: 'flagged', flag: problem }, at);
    return { outcome: 'flagged', purchase, ledger: [] };
  }
  const paid = upsert(s, known, { status: 'paid', flag: null }, at);
  const userId = paid.record.userId;
  if (userId === null) return { outcome: 'flagged', purchase: paid, ledger: [] };
  const ledger: LedgerEntryInput[] = [];
  if (!facts.credited) {
    ledger.push({
      userId,
      delta: paid.record.credits,
      reason: 'purchase',
      reference: paid.record.id,
      at,
    });
  }
  // A refund or dispute that arrived before this payment applies now.
  const early = facts.reversals[0];
  const chargeback = early && takeBack(paid.record, early.chargeId, facts, at);
  if (chargeback) ledger.push(chargeback);
  return { outcome: facts.credited ? 'recorded' : 'credited', purchase: paid, ledger };
}

function reconcileReversal(
  effect: Extract<BillingEvent, { kind: 'reversal' }>,
  facts: StripeFacts,
  at: number,
): StripeDecision {
  if (effect.paymentIntent === null) return { outcome: 'ignored', ledger: [] };
  const reversal: ReversalRecord = {
    chargeId: effect.chargeId,
    paymentIntent: effect.paymentIntent,
    kind: effect.reason,
    createdAt: at,
  };
  const chargeback = facts.purchase && takeBack(facts.purchase, effect.chargeId, facts, at);
  return chargeback
    ? { outcome: 'reversed', reversal, ledger: [chargeback] }
    : { outcome: 'recorded', reversal, ledger: [] };
}
