import type { JobStore } from '../store/store.ts';
import type { Connection } from './connection.ts';

export interface WsLimits {
  maxBufferedBytes: number;
  maxMessageBytes: number;
  maxSubscriptions: number;
  maxSocketsPerUser: number;
  errorBudget: number;
  authTimeoutMs: number;
  pingIntervalMs: number;
}

/** What a connection needs from its hub. */
export interface HubContext {
  readonly limits: WsLimits;
  readonly store: Pick<JobStore, 'get' | 'eventsSince'>;
  authenticate(connection: Connection, token: string): Promise<void>;
  subscribe(connection: Connection, jobId: string): void;
  unsubscribe(connection: Connection, jobId: string): void;
  onSlowConsumer(connection: Connection): void;
}
