import Stripe from 'stripe';
import type { Env } from '../env.ts';
import { loadPacks, type Pack } from './packs.ts';

/**
 * How this origin sells credits. In `stripe` mode a Stripe client (pointed at
 * `STRIPE_API_URL` when set: tests use a local double, since this machine cannot reach
 * Stripe) creates Checkout Sessions; in `free` mode new accounts get a grant and checkout
 * answers 409 `billing_disabled`.
 */
export type Billing =
  | { mode: 'free'; packs: Pack[]; signupGrant: number }
  | {
      mode: 'stripe';
      packs: Pack[];
      signupGrant: number;
      stripe: Stripe;
      webhookSecret: string;
      publicUrl: string;
    };

export function createBilling(env: Env): Billing {
  const packs = loadPacks(env.BILLING_PACKS_FILE);
  if (!env.STRIPE_SECRET_KEY || !env.STRIPE_WEBHOOK_SECRET) {
    return { mode: 'free', packs, signupGrant: env.FREE_GRANT_CREDITS };
  }
  const api = env.STRIPE_API_URL ? new URL(env.STRIPE_API_URL) : undefined;
  const stripe = new Stripe(env.STRIPE_SECRET_KEY, {
    maxNetworkRetries: 2,
    timeout: 15_000,
    telemetry: false,
    ...(api && {
      host: api.hostname,
      port: api.port || (api.protocol === 'https:' ? 443 : 80),
      protocol: api.protocol === 'https:' ? 'https' : 'http',
    }),
  });
  return {
    mode: 'stripe',
    packs,
    signupGrant: 0,
    stripe,
    webhookSecret: env.STRIPE_WEBHOOK_SECRET,
    // Without its trailing slash, so that `${publicUrl}/?checkout=…` has one.
    publicUrl: env.PUBLIC_URL.replace(/\/+$/, ''),
  };
}
