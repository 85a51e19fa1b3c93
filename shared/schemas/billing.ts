import { z } from 'zod';
import { timestampSchema } from './timestamp.ts';

export const billingModes = ['free', 'stripe'] as const;
export type BillingMode = (typeof billingModes)[number];

/** Body of `POST /v1/billing/checkout`. */
export const checkoutSchema = z
  .strictObject({ pack: z.string().min(1).max(40) })
  .meta({ id: 'CheckoutBody' });

export const packInfoSchema = z
  .object({
    id: z.string(),
    credits: z.number().int().min(1),
    amount: z.number().int().min(0).describe("in the currency's smallest unit"),
    currency: z.string(),
  })
  .meta({ id: 'PackInfo' });
export type PackInfo = z.infer<typeof packInfoSchema>;

/** Answer of `GET /v1/billing/packs`: `mode` says whether credits can be bought. */
export const packsAnswerSchema = z
  .object({
    mode: z.enum(billingModes),
    /** Credits a new account receives. */
    signupGrant: z.number().int().min(0),
    data: z.array(packInfoSchema),
  })
  .meta({ id: 'PacksAnswer' });
export type PacksAnswer = z.infer<typeof packsAnswerSchema>;

export const ledgerEntryInfoSchema = z
  .object({
    id: z.number().int(),
    delta: z.number().int(),
    reason: z.string().describe('grant, purchase, job, refund, chargeback or adjustment'),
    reference: z.string(),
    createdAt: timestampSchema,
  })
  .meta({ id: 'LedgerEntryInfo' });
export type LedgerEntryInfo = z.infer<typeof ledgerEntryInfoSchema>;

export const ledgerAnswerSchema = z
  .object({
    mode: z.enum(billingModes),
    data: z.array(ledgerEntryInfoSchema),
    balance: z.number().int(),
  })
  .meta({ id: 'LedgerAnswer' });
export type LedgerAnswer = z.infer<typeof ledgerAnswerSchema>;

/** Answer of `POST /v1/billing/checkout`: where to send the user to pay. */
export const checkoutAnswerSchema = z
  .object({ url: z.string(), sessionId: z.string() })
  .meta({ id: 'CheckoutAnswer' });
export type CheckoutAnswer = z.infer<typeof checkoutAnswerSchema>;

/** Answer of `POST /v1/webhooks/stripe` once the event is verified. */
export const stripeReceiptSchema = z
  .object({
    received: z.literal(true),
    outcome: z.enum(['credited', 'reversed', 'recorded', 'flagged', 'ignored', 'duplicate']),
  })
  .meta({ id: 'StripeReceipt' });
export type StripeReceipt = z.infer<typeof stripeReceiptSchema>;
