import * as apiKeys from './api-keys.ts';
import * as auth from './auth.ts';
import * as billing from './billing.ts';
import type { OperationId } from './endpoints.ts';
import * as files from './files.ts';
import * as health from './health.ts';
import * as jobs from './jobs.ts';
import * as me from './me.ts';
import * as models from './models.ts';
import * as openapi from './openapi.ts';
import * as stats from './stats.ts';
import * as webhooks from './webhooks.ts';

/**
 * Every operation's contract, by operationId (each group's exports are its contracts, named by
 * their ids; the compiler checks that every endpoint has one, under its own id). The client
 * reads its types from here.
 */
export const contracts = {
  ...openapi,
  ...health,
  ...models,
  ...auth,
  ...me,
  ...apiKeys,
  ...jobs,
  ...webhooks,
  ...billing,
  ...stats,
  ...files,
} satisfies { [Id in OperationId]: { operationId: Id } };

export type Contracts = typeof contracts;
