import { z } from 'zod';
import { codeToStatus, type ErrorCode, errorBodySchema } from '../../shared/errors.ts';
import {
  apiKeyInfoSchema,
  apiKeyListSchema,
  createApiKeySchema,
  createdApiKeySchema,
  credentialsSchema,
  meAnswerSchema,
  sessionAnswerSchema,
  userSchema,
} from '../../shared/schemas/auth.ts';
import {
  checkoutAnswerSchema,
  checkoutSchema,
  ledgerAnswerSchema,
  ledgerEntryInfoSchema,
  packInfoSchema,
  packsAnswerSchema,
  stripeReceiptSchema,
} from '../../shared/schemas/billing.ts';
import { healthSchema } from '../../shared/schemas/health.ts';
import {
  createJobSchema,
  idempotencyKeySchema,
  idSchema,
  jobErrorSchema,
  jobOutputSchema,
  jobPageSchema,
  jobSchema,
  listJobsQuerySchema,
  webhookDeliveryInfoSchema,
  webhookDeliveryListSchema,
  webhookSecretSchema,
} from '../../shared/schemas/jobs.ts';
import { modelInfoSchema, modelListSchema } from '../../shared/schemas/models.ts';
import {
  modelStatsSchema,
  percentilesSchema,
  statsAnswerSchema,
  statsQuerySchema,
} from '../../shared/schemas/stats.ts';

type JsonSchema = Record<string, unknown>;

/** The answer of `GET /v1/openapi.json` itself, loosely: an OpenAPI 3.1 document. */
const openApiDocumentSchema = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

/** A file of any type (job outputs). */
const binary = 'binary';

interface Header {
  name: string;
  schema: z.ZodType;
  description: string;
}

/** One row of the table: an operation as the app registers it (Hono path syntax). */
export interface OperationSpec {
  method: 'get' | 'post' | 'delete';
  path: string;
  operationId: string;
  summary: string;
  /** A bearer token (session JWT or API key) is required. */
  auth: boolean;
  body?: z.ZodType;
  query?: z.ZodObject;
  headers?: Header[];
  /** Answers by status: a JSON schema, a file, or nothing (204, 304). */
  responses: Record<number, { description: string; schema?: z.ZodType | typeof binary }>;
  /** Error codes of this operation beyond those its shape implies (see `impliedErrors`). */
  errors?: ErrorCode[];
}

const json = (schema: z.ZodType, description: string) => ({ schema, description });

/** Every operation of the origin's app (but `/healthz`, the process's own probe). */
export const operations: OperationSpec[] = [
  {
    method: 'get',
    path: '/v1/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This document',
    auth: false,
    responses: { 200: json(openApiDocumentSchema, 'OpenAPI 3.1') },
  },
  {
    method: 'get',
    path: '/v1/health',
    operationId: 'getHealth',
    summary: 'Health of the origin; 503 while it starts or stops',
    auth: false,
    responses: {
      200: json(healthSchema, 'healthy or degraded'),
      503: json(healthSchema, 'starting, or stopping (with Retry-After)'),
    },
  },
  {
    method: 'get',
    path: '/v1/models',
    operationId: 'listModels',
    summary: 'The models, with cost and input schema',
    auth: false,
    responses: { 200: json(modelListSchema, 'every loaded model') },
  },
  {
    method: 'post',
    path: '/v1/auth/register',
    operationId: 'register',
    summary: 'Create an account',
    auth: false,
    body: credentialsSchema,
    responses: { 201: json(sessionAnswerSchema, 'the account and a session token') },
    errors: ['conflict'],
  },
  {
    method: 'post',
    path: '/v1/auth/login',
    operationId: 'login',
    summary: 'Sign in',
    auth: false,
    body: credentialsSchema,
    responses: { 200: json(sessionAnswerSchema, 'the account and a session token') },
    errors: ['unauthorized'],
  },
  {
    method: 'get',
    path: '/v1/me',
    operationId: 'getMe',
    summary: 'Who the token is, and the credit balance',
    auth: true,
    responses: { 200: json(meAnswerSchema, 'the account') },
  },
  {
    method: 'post',
    path: '/v1/api-keys',
    operationId: 'createApiKey',
    summary: 'Create an API key (shown once)',
    auth: true,
    body: createApiKeySchema,
    responses: { 201: json(createdApiKeySchema, 'the key, the only time it is shown') },
  },
  {
    method: 'get',
    path: '/v1/api-keys',
    operationId: 'listApiKeys',
    summary: "The account's API keys",
    auth: true,
    responses: { 200: json(apiKeyListSchema, 'the keys that are not revoked') },
  },
  {
    method: 'delete',
    path: '/v1/api-keys/:id',
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key',
    auth: true,
    responses: { 204: { description: 'revoked' } },
  },
  {
    method: 'post',
    path: '/v1/jobs',
    operationId: 'createJob',
    summary: 'Submit a job (charged at once, refunded unless it succeeds)',
    auth: true,
    body: createJobSchema,
    headers: [
      {
        name: 'Idempotency-Key',
        schema: idempotencyKeySchema,
        description: 'the same key and body answer the first job; another body is a 409',
      },
    ],
    responses: {
      202: json(jobSchema, 'accepted and queued'),
      200: json(jobSchema, 'the job an earlier request with this Idempotency-Key created'),
    },
    errors: ['insufficient_credits', 'conflict', 'overloaded', 'not_ready', 'disk_full'],
  },
  {
    method: 'get',
    path: '/v1/jobs',
    operationId: 'listJobs',
    summary: "The account's jobs, newest first",
    auth: true,
    query: listJobsQuerySchema,
    responses: { 200: json(jobPageSchema, 'a page; follow nextCursor for the next') },
  },
  {
    method: 'get',
    path: '/v1/jobs/:id',
    operationId: 'getJob',
    summary: 'A job',
    auth: true,
    responses: { 200: json(jobSchema, 'the job') },
  },
  {
    method: 'post',
    path: '/v1/jobs/:id/cancel',
    operationId: 'cancelJob',
    summary: 'Cancel a job (idempotent; 409 once it ended otherwise)',
    auth: true,
    responses: { 200: json(jobSchema, 'the canceled job') },
    errors: ['conflict'],
  },
  {
    method: 'get',
    path: '/v1/jobs/:id/output',
    operationId: 'getJobOutput',
    summary: 'The output file of a succeeded job, with Range support',
    auth: true,
    headers: [
      { name: 'Range', schema: z.string(), description: 'one byte range, `bytes=0-1023`' },
      { name: 'If-Range', schema: z.string(), description: 'an ETag' },
      { name: 'If-None-Match', schema: z.string(), description: 'an ETag' },
    ],
    responses: {
      200: { description: 'the file', schema: binary },
      206: { description: 'the asked range of the file', schema: binary },
      304: { description: 'the file is the one the client has' },
    },
    errors: ['conflict', 'gone', 'range_not_satisfiable'],
  },
  {
    method: 'get',
    path: '/v1/jobs/:id/webhook-deliveries',
    operationId: 'listWebhookDeliveries',
    summary: "The job's outbound webhook messages and how they went",
    auth: true,
    responses: { 200: json(webhookDeliveryListSchema, 'oldest first') },
  },
  {
    method: 'get',
    path: '/v1/webhooks/secret',
    operationId: 'getWebhookSecret',
    summary: "The key that signs this account's webhooks (Standard Webhooks)",
    auth: true,
    responses: { 200: json(webhookSecretSchema, 'the secret') },
  },
  {
    method: 'get',
    path: '/v1/billing/packs',
    operationId: 'listPacks',
    summary: 'Credit packs, and whether credits can be bought',
    auth: false,
    responses: { 200: json(packsAnswerSchema, 'the packs') },
  },
  {
    method: 'post',
    path: '/v1/billing/checkout',
    operationId: 'checkout',
    summary: 'A Stripe Checkout Session for one pack',
    auth: true,
    body: checkoutSchema,
    responses: { 200: json(checkoutAnswerSchema, 'where to send the user to pay') },
    errors: ['billing_disabled', 'bad_gateway'],
  },
  {
    method: 'get',
    path: '/v1/billing/ledger',
    operationId: 'getLedger',
    summary: "The account's latest credit changes and its balance",
    auth: true,
    responses: { 200: json(ledgerAnswerSchema, 'newest first, at most 100') },
  },
  {
    method: 'post',
    path: '/v1/webhooks/stripe',
    operationId: 'receiveStripeEvent',
    summary: "Stripe's events (the raw body, signed by Stripe, verified by the edge)",
    auth: false,
    body: z.looseObject({ id: z.string(), type: z.string() }),
    headers: [{ name: 'Stripe-Signature', schema: z.string(), description: "Stripe's" }],
    responses: { 200: json(stripeReceiptSchema, 'the event was applied, or was already') },
    errors: ['invalid_signature', 'billing_disabled'],
  },
  {
    method: 'get',
    path: '/v1/stats',
    operationId: 'getStats',
    summary: 'Per-model quality of recent jobs: success rate, DPMO, sigma, latencies',
    auth: true,
    query: statsQuerySchema,
    responses: { 200: json(statsAnswerSchema, 'one entry per model') },
    errors: ['forbidden'],
  },
];

/** Named schemas, referenced as `#/components/schemas/<name>`. */
const responseComponents: Record<string, z.ZodType> = {
  ErrorBody: errorBodySchema,
  Health: healthSchema,
  ModelInfo: modelInfoSchema,
  ModelList: modelListSchema,
  User: userSchema,
  SessionAnswer: sessionAnswerSchema,
  MeAnswer: meAnswerSchema,
  ApiKeyInfo: apiKeyInfoSchema,
  ApiKeyList: apiKeyListSchema,
  CreatedApiKey: createdApiKeySchema,
  Job: jobSchema,
  JobError: jobErrorSchema,
  JobOutput: jobOutputSchema,
  JobPage: jobPageSchema,
  WebhookDeliveryInfo: webhookDeliveryInfoSchema,
  WebhookDeliveryList: webhookDeliveryListSchema,
  WebhookSecret: webhookSecretSchema,
  PackInfo: packInfoSchema,
  PacksAnswer: packsAnswerSchema,
  LedgerEntryInfo: ledgerEntryInfoSchema,
  LedgerAnswer: ledgerAnswerSchema,
  CheckoutAnswer: checkoutAnswerSchema,
  StripeReceipt: stripeReceiptSchema,
  Percentiles: percentilesSchema,
  ModelStats: modelStatsSchema,
  StatsAnswer: statsAnswerSchema,
  OpenApiDocument: openApiDocumentSchema,
};
const requestComponents: Record<string, z.ZodType> = {
  Credentials: credentialsSchema,
  CreateApiKeyBody: createApiKeySchema,
  CreateJobBody: createJobSchema,
  CheckoutBody: checkoutSchema,
};

const refTo = (name: string) => `#/components/schemas/${name}`;

/**
 * Converts named zod schemas to JSON Schema 2020-12 (OpenAPI 3.1's dialect), each
 * reference to another named one as a `$ref`. Requests are described as the client sends
 * them (`io: input`: defaults optional, before transforms), answers as the server writes
 * them. Answers may gain fields (API.md: "add fields freely"), so unless `closed`, their
 * objects do not forbid other properties.
 */
function convert(
  named: Record<string, z.ZodType>,
  io: 'input' | 'output',
  closed: boolean,
): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    io,
    uri: refTo,
    override: ({ jsonSchema }) => {
      if (!closed && jsonSchema.additionalProperties === false) {
        delete jsonSchema.additionalProperties;
      }
    },
  });
  // Each component is a subschema of the document: no `$schema` or fragment-only `$id`.
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _, $id: __, ...rest }]) => [id, rest]),
  );
}

/** The component name of a schema, or its inline JSON Schema. */
function schemaRef(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const table = io === 'input' ? requestComponents : responseComponents;
  const name = Object.entries(table).find(([, s]) => s === schema)?.[0];
  if (name) return { $ref: refTo(name) };
  const { $schema: _, ...inline } = z.toJSONSchema(schema, { io }) as JsonSchema;
  return inline;
}

/** Codes an operation can answer by its shape alone, then the edge's and the server's. */
function impliedErrors(op: OperationSpec): ErrorCode[] {
  const codes: ErrorCode[] = [...(op.errors ?? [])];
  if (op.auth) codes.push('unauthorized');
  if (op.body) codes.push('invalid_request', 'unsupported_media_type', 'payload_too_large');
  if (op.query) codes.push('invalid_request');
  if (op.path.includes('/:')) codes.push('not_found');
  // The edge rate-limits every /v1 path but these (ARCHITECTURE.md: edge middleware).
  if (op.path !== '/v1/health' && op.path !== '/v1/webhooks/stripe') codes.push('rate_limited');
  codes.push('internal', 'bad_gateway', 'gateway_timeout');
  return [...new Set(codes)];
}

function errorResponses(op: OperationSpec): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of impliedErrors(op)) {
    const status = codeToStatus(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, codes]) => [
      String(status),
      {
        description: codes.join(', '),
        content: {
          'application/json': {
            schema: {
              allOf: [
                { $ref: refTo('ErrorBody') },
                {
                  type: 'object',
                  properties: { error: { type: 'object', properties: { code: { enum: codes } } } },
                },
              ],
            },
          },
        },
      },
    ]),
  );
}

function parameters(op: OperationSpec): JsonSchema[] {
  const params: JsonSchema[] = [];
  for (const [, name] of op.path.matchAll(/:([A-Za-z]+)/g)) {
    params.push({ name, in: 'path', required: true, schema: schemaRef(idSchema, 'input') });
  }
  if (op.query) {
    const query = z.toJSONSchema(op.query, { io: 'input' }) as {
      properties?: Record<string, JsonSchema>;
      required?: string[];
    };
    for (const [name, schema] of Object.entries(query.properties ?? {})) {
      const { description, ...rest } = schema;
      params.push({
        name,
        in: 'query',
        required: query.required?.includes(name) ?? false,
        ...(description === undefined ? {} : { description }),
        schema: rest,
      });
    }
  }
  for (const header of op.headers ?? []) {
    params.push({
      name: header.name,
      in: 'header',
      required: false,
      description: header.description,
      schema: schemaRef(header.schema, 'input'),
    });
  }
  return params;
}

function operation(op: OperationSpec): JsonSchema {
  const responses: Record<string, unknown> = {};
  for (const [status, answer] of Object.entries(op.responses)) {
    const { description, schema } = answer;
    responses[status] =
      schema === undefined
        ? { description }
        : schema === binary
          ? { description, content: { '*/*': {} } }
          : {
              description,
              content: { 'application/json': { schema: schemaRef(schema, 'output') } },
            };
  }
  const params = parameters(op);
  return {
    operationId: op.operationId,
    summary: op.summary,
    tags: [op.path.split('/')[2] ?? 'v1'],
    security: op.auth ? [{ bearer: [] }] : [],
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schemaRef(op.body, 'input') } },
          },
        }
      : {}),
    responses: { ...responses, ...errorResponses(op) },
  };
}

/** `/v1/jobs/:id` as OpenAPI writes it: `/v1/jobs/{id}`. */
export const openApiPath = (honoPath: string): string => honoPath.replace(/:([A-Za-z]+)/g, '{$1}');

/**
 * The OpenAPI 3.1 document of the API, from the zod schemas the routes validate with and
 * the table above. `closed` makes answer objects forbid undocumented fields (for tests that
 * check the table lists every field the server writes).
 *
 * @example
 * const doc = buildOpenApi({ version: '0.1.0' });
 */
export function buildOpenApi(options: { version: string; closed?: boolean }): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of operations) {
    const path = openApiPath(op.path);
    paths[path] = { ...paths[path], [op.method]: operation(op) };
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'Overture API',
      version: options.version,
      description:
        'Generation jobs sold for credits. Errors are `{error:{code,message,details?,requestId}}`; ' +
        'every answer carries `x-request-id`. The WebSocket `GET /v1/ws` (live job events) is ' +
        'described in the API guide, not here.',
    },
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A session token from register or login, or an API key (`ovt_…`).',
        },
      },
      schemas: {
        ...convert(responseComponents, 'output', options.closed ?? false),
        ...convert(requestComponents, 'input', true),
      },
    },
  };
}
