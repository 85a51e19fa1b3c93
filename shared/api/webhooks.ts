import { webhookDeliveryListSchema, webhookSecretSchema } from '../schemas/jobs.ts';
import { idParams, json, operation } from './operation.ts';

export const listWebhookDeliveries = operation('listWebhookDeliveries', {
  summary: "The job's outbound webhook messages and how they went",
  auth: true,
  request: { params: idParams },
  responses: { 200: json(webhookDeliveryListSchema, 'oldest first') },
});

export const getWebhookSecret = operation('getWebhookSecret', {
  summary: "The key that signs this account's webhooks (Standard Webhooks)",
  auth: true,
  responses: { 200: json(webhookSecretSchema, 'the secret') },
});
