import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { startEchoControl } from './echo-control.ts';
import { type EchoOrigin, startEchoOrigin } from './echo-origin.ts';
import { freePort } from './edge-process.ts';

/** The clusters of echo origins, one per test file that switches them (files run at once). */
export const echoClusterNames = ['failover', 'health'] as const;
export type EchoClusterName = (typeof echoClusterNames)[number];

declare module 'vitest' {
  export interface ProvidedContext {
    /** The echo origin the edge project's Worker forwards to. */
    echoOrigin: string;
    /** An origin URL where nothing listens. */
    deadOrigin: string;
    /** Three echo origins per cluster, sharing their accepted Idempotency-Keys. */
    echoClusters: Record<EchoClusterName, string[]>;
    /** The server that switches the cluster origins' behaviour (`echo-control.ts`). */
    echoControl: string;
    /** The Worker's EDGE_SIGNING_SECRET, fresh for each run: every echo origin checks it. */
    edgeSigningSecret: string;
  }
}

/**
 * The edge project's global setup: one echo origin for every edge test file, its address
 * provided to the pool options (ORIGIN_URL) and to the tests; and clusters of echo origins
 * whose behaviour tests switch through a control server. Every echo origin checks the edge
 * signature of each request as the origin does, with the secret provided to the Worker.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const secret = `edge-test-${randomBytes(24).toString('hex')}`;
  const echo = await startEchoOrigin({ secret });
  const members: EchoOrigin[] = [];
  const clusters = {} as Record<EchoClusterName, string[]>;
  for (const name of echoClusterNames) {
    const acceptedKeys = new Set<string>();
    const cluster = await Promise.all(
      [1, 2, 3].map((activeJobs) => startEchoOrigin({ secret, acceptedKeys, activeJobs })),
    );
    members.push(...cluster);
    clusters[name] = cluster.map((o) => o.url);
  }
  const control = await startEchoControl(members);
  project.provide('echoOrigin', echo.url);
  project.provide('deadOrigin', `http://127.0.0.1:${await freePort()}`);
  project.provide('echoClusters', clusters);
  project.provide('echoControl', control.url);
  project.provide('edgeSigningSecret', secret);
  return async () => {
    await Promise.all([echo.close(), control.close(), ...members.map((o) => o.close())]);
  };
}
