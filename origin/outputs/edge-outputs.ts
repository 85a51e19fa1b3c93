import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { signOriginRequest } from '../../shared/origin-signature.ts';
import type { OutputStore } from './output-store.ts';

/** The edge's internal route for outputs: only a signed origin may call it. */
const internalOutputsPath = '/internal/outputs/';

export interface EdgeOutputsOptions {
  /** The edge's address as origins reach it, e.g. `https://api.example.com`. */
  edgeUrl: string;
  /** `EDGE_SIGNING_SECRET`: the origin signs its calls with it (its own scheme). */
  secret: string;
  /** A write that cannot reach the edge is retried until this much time has passed. */
  writeDeadlineMs: number;
  fetch?: typeof fetch;
}

const firstRetryMs = 100;
const maxRetryMs = 2_000;

/**
 * Outputs in the edge's R2 bucket: the origin hands the bytes to the edge over a route only
 * a signed origin can call (`PUT /internal/outputs/:key`), which answers 201 once R2's
 * `put` resolved, so the job is marked succeeded only when its output is durable there.
 * Downloads go from R2 to the client at the edge; retention deletes through the same route.
 *
 * @example
 * const outputs = edgeOutputs({ edgeUrl: env.EDGE_URL, secret, writeDeadlineMs: 30_000 });
 */
export function edgeOutputs(options: EdgeOutputsOptions): OutputStore {
  const send = options.fetch ?? fetch;
  const base = options.edgeUrl.replace(/\/+$/, '');
  const call = async (
    method: 'PUT' | 'DELETE' | 'GET',
    key: string,
    body?: Uint8Array,
    type?: string,
  ) => {
    const path = `${internalOutputsPath}${encodeURIComponent(key)}${method === 'GET' ? '/bytes' : ''}`;
    const sha256 = body && createHash('sha256').update(body).digest('hex');
    const signed = await signOriginRequest(options.secret, {
      method,
      path,
      ...(body && sha256 ? { sha256, length: body.byteLength } : {}),
    });
    return send(`${base}${path}`, {
      method,
      headers: { ...signed, ...(type ? { 'content-type': type } : {}) },
      ...(body ? { body: body as Uint8Array<ArrayBuffer> } : {}),
    });
  };
  /** Retries what the edge did not take (unreachable, 5xx) until the deadline. */
  const persist = async (attempt: () => Promise<Response>, what: string, ok: number[]) => {
    const deadline = Date.now() + options.writeDeadlineMs;
    let wait = firstRetryMs;
    for (;;) {
      let status: number | undefined;
      let failure: string;
      try {
        const res = await attempt();
        await res.body?.cancel();
        status = res.status;
        failure = `answered ${status}`;
      } catch (error) {
        failure = error instanceof Error ? error.message : String(error);
      }
      if (status !== undefined && ok.includes(status)) return;
      if (status !== undefined && status < 500) {
        throw new Error(`the edge refused ${what}: ${failure}`);
      }
      if (Date.now() + wait > deadline)
        throw new Error(`the edge did not take ${what}: ${failure}`);
      await sleep(wait);
      wait = Math.min(wait * 2, maxRetryMs);
    }
  };
  return {
    async write(name, extension, bytes, contentType) {
      const key = `${name}.${extension}`;
      await persist(() => call('PUT', key, bytes, contentType), `output ${key}`, [201]);
      return key;
    },
    async remove(key) {
      await persist(() => call('DELETE', key), `the removal of ${key}`, [204]);
    },
    // Nothing is written here before it is in the bucket: no leftovers.
    removeTemporary() {},
    async locate(key) {
      return { at: 'edge', key };
    },
    async read(key) {
      const res = await call('GET', key);
      if (res.status === 404) {
        await res.body?.cancel();
        return undefined;
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new Error(`the edge answered ${res.status} for ${key}`);
      }
      return new Uint8Array(await res.arrayBuffer());
    },
  };
}
