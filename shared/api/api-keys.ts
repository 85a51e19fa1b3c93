import { apiKeyListSchema, createApiKeySchema, createdApiKeySchema } from '../schemas/auth.ts';
import { idParams, json, jsonBody, operation } from './operation.ts';

export const createApiKey = operation('createApiKey', {
  summary: 'Create an API key (shown once)',
  auth: true,
  request: { body: jsonBody(createApiKeySchema) },
  responses: { 201: json(createdApiKeySchema, 'the key, the only time it is shown') },
});

export const listApiKeys = operation('listApiKeys', {
  summary: "The account's API keys",
  auth: true,
  responses: { 200: json(apiKeyListSchema, 'the keys that are not revoked') },
});

export const revokeApiKey = operation('revokeApiKey', {
  summary: 'Revoke an API key',
  auth: true,
  request: { params: idParams },
  responses: { 204: { description: 'revoked' } },
});
