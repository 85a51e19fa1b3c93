import {
  type EdgeCheck,
  type EdgeScreen,
  type SignedBody,
  screenEdgeRequest,
  verifyEdgeRequest,
} from '../../shared/edge-signature.ts';
import { throttledWarning, type WarningLogger } from '../lib/throttled-warning.ts';

/**
 * How often at most the origin writes its "edge signature refused" line (a constant, not a
 * setting): the first refusal at once, then one line per interval with the count.
 */
export const refusalLogIntervalMs = 10_000;

interface SignedRequest {
  method: string;
  pathWithQuery: string;
  body: SignedBody;
  header(name: string): string | undefined | null;
}

/**
 * Checks that a request came through the edge: a valid, fresh edge signature seen only
 * once (a replayed request inside the freshness window is refused too). Refusals are
 * logged, at most one line per `refusalLogIntervalMs`.
 */
export interface EdgeTrust {
  /**
   * The checks that need no body (signature headers present, well formed, fresh): a request
   * that fails them is refused before its body is read.
   */
  screen(request: Pick<SignedRequest, 'pathWithQuery' | 'header'>): EdgeScreen;
  check(request: SignedRequest): Promise<EdgeCheck | { ok: false; reason: 'replayed' }>;
}

/** @example const trust = edgeTrust({ secret, maxAgeSeconds: 30, logger }); */
export function edgeTrust(options: {
  secret: string;
  maxAgeSeconds: number;
  logger: WarningLogger;
  /** Tests only: the interval of the refusal log. */
  logIntervalMs?: number;
}): EdgeTrust {
  const refused = throttledWarning(
    options.logger,
    'edge signature refused',
    options.logIntervalMs ?? refusalLogIntervalMs,
  );
  // The query stays out of the log: a WebSocket's carries its token.
  const pathOf = (pathWithQuery: string) => pathWithQuery.split('?')[0] ?? '';
  // The MACs seen (their bytes in hex, never their spelling), with their timestamps; entries
  // older than the window can go.
  const seen = new Map<string, number>();
  let lastSweep = 0;
  const sweep = (now: number) => {
    if (now - lastSweep < options.maxAgeSeconds) return;
    lastSweep = now;
    for (const [mac, stamp] of seen) {
      if (now - stamp > options.maxAgeSeconds) seen.delete(mac);
    }
  };
  const freshness = { maxAgeSeconds: options.maxAgeSeconds };
  const checkOnce = async (request: SignedRequest) => {
    const result = await verifyEdgeRequest(options.secret, request, freshness);
    if (!result.ok) return result;
    const now = Math.floor(Date.now() / 1000);
    sweep(now);
    if (seen.has(result.mac)) return { ok: false, reason: 'replayed' } as const;
    seen.set(result.mac, result.timestamp);
    return result;
  };
  return {
    screen(request) {
      const result = screenEdgeRequest(request.header, freshness);
      if (!result.ok) refused(result.reason, pathOf(request.pathWithQuery));
      return result;
    },
    async check(request) {
      const result = await checkOnce(request);
      if (!result.ok) refused(result.reason, pathOf(request.pathWithQuery));
      return result;
    },
  };
}
