import { z } from 'zod';
import {
  checkoutAnswerSchema,
  checkoutSchema,
  ledgerAnswerSchema,
  packsAnswerSchema,
  stripeReceiptSchema,
} from '../schemas/billing.ts';
import { json, jsonBody, operation } from './operation.ts';

export const listPacks = operation('listPacks', {
  summary: 'Credit packs, and whether credits can be bought',
  auth: false,
  responses: { 200: json(packsAnswerSchema, 'the packs') },
});

export const checkout = operation('checkout', {
  summary: 'A Stripe Checkout Session for one pack',
  auth: true,
  request: { body: jsonBody(checkoutSchema) },
  responses: { 200: json(checkoutAnswerSchema, 'where to send the user to pay') },
  errors: ['billing_disabled', 'bad_gateway'],
});

export const getLedger = operation('getLedger', {
  summary: "The account's latest credit changes and its balance",
  auth: true,
  responses: { 200: json(ledgerAnswerSchema, 'newest first, at most 100') },
});

export const receiveStripeEvent = operation('receiveStripeEvent', {
  summary: "Stripe's events (the raw body, signed by Stripe, verified by the edge)",
  auth: false,
  rateLimited: false,
  request: {
    headers: z.object({ 'Stripe-Signature': z.string().optional().describe("Stripe's") }),
    // A JSON Schema, not a zod one: the route reads the raw bytes, so the signature is checked
    // on exactly what Stripe sent; nothing parses or validates the body before that.
    body: {
      required: true,
      content: {
        'application/json': {
          schema: {
            type: 'object',
            properties: { id: { type: 'string' }, type: { type: 'string' } },
            required: ['id', 'type'],
            additionalProperties: {},
          },
        },
      },
    },
  },
  responses: { 200: json(stripeReceiptSchema, 'the event was applied, or was already') },
  errors: ['invalid_signature', 'billing_disabled'],
});
