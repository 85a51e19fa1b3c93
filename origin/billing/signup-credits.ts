import type { LedgerEntryInput } from '../store/records.ts';

/** The ledger rows a new account starts with: a free mode's grant, as `grant:<user id>`. */
export function signupCredits(userId: string, grant: number, at: number): LedgerEntryInput[] {
  return grant > 0 ? [{ userId, delta: grant, reason: 'grant', reference: userId, at }] : [];
}
