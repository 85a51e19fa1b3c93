import {
  type EdgeCheck,
  type EdgeScreen,
  screenEdgeRequest,
  verifyEdgeRequest,
} from '../../shared/edge-signature.ts';

interface SignedRequest {
  method: string;
  pathWithQuery: string;
  body: ArrayBuffer | Uint8Array | undefined;
  header(name: string): string | undefined | null;
}

/**
 * Checks that a request came through the edge: a valid, fresh edge signature seen only
 * once (a replayed request inside the freshness window is refused too).
 */
export interface EdgeTrust {
  /**
   * The checks that need no body (signature headers present, well formed, fresh): a request
   * that fails them is refused before its body is read.
   */
  screen(request: Pick<SignedRequest, 'header'>): EdgeScreen;
  check(request: SignedRequest): Promise<EdgeCheck | { ok: false; reason: 'replayed' }>;
}

/** @example const trust = edgeTrust({ secret, maxAgeSeconds: 30 }); */
export function edgeTrust(options: { secret: string; maxAgeSeconds: number }): EdgeTrust {
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
    screen: (request) => screenEdgeRequest(request.header, freshness),
    check: checkOnce,
  };
}
