import type { Bindings } from '../../edge/config.ts';

declare global {
  namespace Cloudflare {
    /** `env` of `cloudflare:test`: the Worker's bindings as vitest.config.ts sets them. */
    interface Env extends Bindings {}
  }
}

declare module 'vitest' {
  /** Provided by test/helpers/edge-global-setup.ts. */
  export interface ProvidedContext {
    echoOrigin: string;
    deadOrigin: string;
    echoClusters: Record<'failover' | 'health', string[]>;
    echoControl: string;
    edgeSigningSecret: string;
  }
}
