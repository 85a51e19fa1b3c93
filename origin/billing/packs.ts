import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** A credit pack as configured: what it gives, what it costs, and its Stripe price if any. */
export const packSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]{1,40}$/),
  credits: z.number().int().min(1),
  /** In the currency's smallest unit (cents). */
  amount: z.number().int().min(50),
  currency: z.string().regex(/^[a-z]{3}$/),
  /** A Stripe Price id (`price_…`); without one the session carries the amount inline. */
  priceId: z.string().startsWith('price_').nullable().default(null),
});
export type Pack = z.infer<typeof packSchema>;

const packsSchema = z
  .array(packSchema)
  .min(1)
  .refine(
    (packs) => new Set(packs.map((p) => p.id)).size === packs.length,
    'pack ids must be unique',
  );

/**
 * The configured packs: `BILLING_PACKS_FILE` when set, the defaults beside this file otherwise.
 *
 * @example
 * loadPacks(undefined).find((p) => p.id === 'starter');
 */
export function loadPacks(file: string | undefined): Pack[] {
  const source = file ?? new URL('./default-packs.json', import.meta.url);
  const parsed = packsSchema.safeParse(JSON.parse(readFileSync(source, 'utf8')));
  if (!parsed.success) {
    throw new Error(`invalid credit packs in ${String(source)}: ${parsed.error.message}`);
  }
  return parsed.data;
}
