import { z } from 'zod';

export const billingModes = ['free', 'stripe'] as const;
export type BillingMode = (typeof billingModes)[number];

/** Body of `POST /v1/billing/checkout`. */
export const checkoutSchema = z.strictObject({ pack: z.string().min(1).max(40) });

export const packInfoSchema = z.object({
  id: z.string(),
  credits: z.number().int().min(1),
  amount: z.number().int().min(0).describe("in the currency's smallest unit"),
  currency: z.string(),
});
export type PackInfo = z.infer<typeof packInfoSchema>;

/** Answer of `GET /v1/billing/packs`: `mode` says whether credits can be bought. */
export const packsAnswerSchema = z.object({
  mode: z.enum(billingModes),
  /** Credits a new account receives. */
  signupGrant: z.number().int().min(0),
  data: z.array(packInfoSchema),
});
export type PacksAnswer = z.infer<typeof packsAnswerSchema>;

export const ledgerEntryInfoSchema = z.object({
  id: z.number().int(),
  delta: z.number().int(),
  reason: z.string().describe('grant, purchase, job, refund, chargeback or adjustment'),
  reference: z.string(),
  createdAt: z.iso.datetime(),
});
export type LedgerEntryInfo = z.infer<typeof ledgerEntryInfoSchema>;

export const ledgerAnswerSchema = z.object({
  mode: z.enum(billingModes),
  data: z.array(ledgerEntryInfoSchema),
  balance: z.number().int(),
});
export type LedgerAnswer = z.infer<typeof ledgerAnswerSchema>;

/** Answer of `POST /v1/billing/checkout`: where to send the user to pay. */
export const checkoutAnswerSchema = z.object({ url: z.string(), sessionId: z.string() });
export type CheckoutAnswer = z.infer<typeof checkoutAnswerSchema>;

/** Answer of `POST /v1/webhooks/stripe` once the event is verified. */
export const stripeReceiptSchema = z.object({
  received: z.literal(true),
  outcome: z.enum(['credited', 'reversed', 'recorded', 'flagged', 'ignored', 'duplicate']),
});
export type StripeReceipt = z.infer<typeof stripeReceiptSchema>;
