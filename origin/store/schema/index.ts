export { apiKeys } from './api-keys.ts';
export {
  type PurchaseStatus,
  purchaseStatuses,
  purchases,
  stripeEvents,
  stripeReversals,
} from './billing.ts';
export { jobEvents } from './job-events.ts';
export { type JobRow, jobs } from './jobs.ts';
export { creditLedger, type LedgerReason, ledgerReasons } from './ledger.ts';
export { users } from './users.ts';
export {
  type DeliveryStatus,
  deliveryStatuses,
  webhookDeliveries,
} from './webhook-deliveries.ts';
