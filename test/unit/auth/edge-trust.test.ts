import { describe, expect, it } from 'vitest';
import { edgeTrust } from '../../../origin/auth/edge-trust.ts';
import { edgeHeaders } from '../../../shared/edge-signature.ts';
import { respell, signedLikeTheEdge } from '../../helpers/edge-signing.ts';

const secret = 'edge-trust-unit-secret-0123456789abcdef';

function trust() {
  const lines: Record<string, unknown>[] = [];
  const checker = edgeTrust({
    secret,
    maxAgeSeconds: 30,
    logger: { warn: (fields) => lines.push(fields) },
    logIntervalMs: 60_000,
  });
  return { checker, lines };
}

/** The request as the origin's check reads it, with some headers changed. */
const asReceived = (
  captured: Awaited<ReturnType<typeof signedLikeTheEdge>>,
  changes: Record<string, string> = {},
) => {
  const all: Record<string, string> = { ...captured.headers, ...changes };
  return {
    method: captured.method,
    pathWithQuery: captured.path,
    body: undefined,
    header: (name: string) => all[name],
  };
};

describe('edgeTrust', () => {
  it('refuses a signature seen before, however it is spelled', async () => {
    const { checker } = trust();
    const captured = await signedLikeTheEdge(secret, { method: 'GET', path: '/v1/me' });
    expect((await checker.check(asReceived(captured))).ok).toBe(true);
    expect(await checker.check(asReceived(captured))).toEqual({ ok: false, reason: 'replayed' });
    for (const signature of respell(captured.headers[edgeHeaders.signature] ?? '')) {
      const again = asReceived(captured, { [edgeHeaders.signature]: signature });
      expect((await checker.check(again)).ok, signature).toBe(false);
    }
  });

  it('refuses a re-spelled signature it has not seen, too (only one spelling is well formed)', async () => {
    const { checker } = trust();
    const captured = await signedLikeTheEdge(secret, { method: 'GET', path: '/v1/me' });
    const [other = ''] = respell(captured.headers[edgeHeaders.signature] ?? '');
    const respelled = asReceived(captured, { [edgeHeaders.signature]: other });
    expect(await checker.check(respelled)).toEqual({ ok: false, reason: 'malformed' });
    expect((await checker.check(asReceived(captured))).ok).toBe(true);
  });

  it('screens headers alone, and logs refusals at most once per interval, without the query', async () => {
    const { checker, lines } = trust();
    const header = () => undefined;
    for (let i = 0; i < 100; i++) {
      expect(checker.screen({ pathWithQuery: '/v1/ws?token=secret-token', header })).toEqual({
        ok: false,
        reason: 'missing',
      });
    }
    const captured = await signedLikeTheEdge(secret, { method: 'GET', path: '/v1/me' });
    expect(checker.screen(asReceived(captured)).ok).toBe(true);
    expect(lines).toEqual([{ count: 1, reason: 'missing', path: '/v1/ws' }]);
  });
});
