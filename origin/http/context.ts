import type { Hono } from 'hono';
import type { Principal } from '../auth/principal.ts';
import type { Services } from '../services.ts';

/** The typed Hono environment of the origin's app. */
export interface AppEnv {
  Variables: {
    services: Services;
    requestId: string;
    /** Set by `requireUser`. */
    principal: Principal;
  };
}

export type App = Hono<AppEnv>;
