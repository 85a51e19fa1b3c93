import type { Hono } from 'hono';
import type { Bindings, EdgeConfig } from './config.ts';

export interface EdgeEnv {
  Bindings: Bindings;
  Variables: {
    config: EdgeConfig;
    requestId: string;
    clientIp: string;
  };
}

export type EdgeApp = Hono<EdgeEnv>;
