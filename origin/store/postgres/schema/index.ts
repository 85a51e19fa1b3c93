export { apiKeys } from './api-keys.ts';
export { purchases, stripeEvents, stripeReversals } from './billing.ts';
export { endedSessions } from './ended-sessions.ts';
export { jobEvents } from './job-events.ts';
export { jobOutputs } from './job-outputs.ts';
export { type JobRow, jobs } from './jobs.ts';
export { creditLedger } from './ledger.ts';
export { users } from './users.ts';
export { webhookDeliveries } from './webhook-deliveries.ts';
