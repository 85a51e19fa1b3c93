import { z } from 'zod';

export type BillingMode = 'free' | 'stripe';

/** Body of `POST /v1/billing/checkout`. */
export const checkoutSchema = z.strictObject({ pack: z.string().min(1).max(40) });

export interface PackInfo {
  id: string;
  credits: number;
  amount: number;
  currency: string;
}

/** Answer of `GET /v1/billing/packs`: `mode` says whether credits can be bought. */
export interface PacksAnswer {
  mode: BillingMode;
  /** Credits a new account receives. */
  signupGrant: number;
  data: PackInfo[];
}

export interface LedgerEntryInfo {
  id: number;
  delta: number;
  reason: string;
  reference: string;
  createdAt: string;
}

export interface LedgerAnswer {
  mode: BillingMode;
  data: LedgerEntryInfo[];
  balance: number;
}
