import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Principal } from '../auth/principal.ts';
import type { Services } from '../services.ts';

/** The typed Hono environment of the origin's app. */
export interface AppEnv {
  Variables: {
    services: Services;
    requestId: string;
    /** Set by `requireUser`. */
    principal: Principal;
    /**
     * Set when the edge signature was refused: such a request, which anyone can send, gets
     * no log line of its own (the refusal log counts them, at most a line per interval).
     */
    edgeRefused: true;
  };
}

/** The origin's app: its routes are registered with `app.openapi` from their contracts. */
export type App = OpenAPIHono<AppEnv>;
