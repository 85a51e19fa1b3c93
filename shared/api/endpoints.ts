/**
 * Every operation of the API, by its operationId: the one place a method and a path are
 * written (OpenAPI's `{id}` syntax). Zod-free, so the browser client can carry it; the
 * contracts beside it (`operation(id, …)`) add the schemas and answers, and the origin's
 * routes the handlers.
 */
export const endpoints = {
  getOpenApi: { method: 'get', path: '/v1/openapi.json' },
  getHealth: { method: 'get', path: '/v1/health' },
  listModels: { method: 'get', path: '/v1/models' },
  register: { method: 'post', path: '/v1/auth/register' },
  login: { method: 'post', path: '/v1/auth/login' },
  logout: { method: 'post', path: '/v1/auth/logout' },
  changePassword: { method: 'post', path: '/v1/auth/password' },
  getMe: { method: 'get', path: '/v1/me' },
  createApiKey: { method: 'post', path: '/v1/api-keys' },
  listApiKeys: { method: 'get', path: '/v1/api-keys' },
  revokeApiKey: { method: 'delete', path: '/v1/api-keys/{id}' },
  createJob: { method: 'post', path: '/v1/jobs' },
  listJobs: { method: 'get', path: '/v1/jobs' },
  getJob: { method: 'get', path: '/v1/jobs/{id}' },
  cancelJob: { method: 'post', path: '/v1/jobs/{id}/cancel' },
  getJobOutput: { method: 'get', path: '/v1/jobs/{id}/output' },
  listWebhookDeliveries: { method: 'get', path: '/v1/jobs/{id}/webhook-deliveries' },
  getWebhookSecret: { method: 'get', path: '/v1/webhooks/secret' },
  listPacks: { method: 'get', path: '/v1/billing/packs' },
  checkout: { method: 'post', path: '/v1/billing/checkout' },
  getLedger: { method: 'get', path: '/v1/billing/ledger' },
  receiveStripeEvent: { method: 'post', path: '/v1/webhooks/stripe' },
  getStats: { method: 'get', path: '/v1/stats' },
  getUsage: { method: 'get', path: '/v1/usage' },
  uploadFile: { method: 'post', path: '/v1/files' },
  listFiles: { method: 'get', path: '/v1/files' },
  getFile: { method: 'get', path: '/v1/files/{id}' },
  deleteFile: { method: 'delete', path: '/v1/files/{id}' },
} as const satisfies Record<string, { method: 'get' | 'post' | 'delete'; path: `/v1/${string}` }>;

export type OperationId = keyof typeof endpoints;
