/**
 * Upgrades whose client resets the connection while the origin is still deciding (checking
 * the edge signature): the origin must shrug them off. Node takes its own `error` listener
 * off a socket it hands to `upgrade`; without one of ours, the reset is an uncaught error
 * that ends the process, and every socket and running job with it.
 */
import { connect } from 'node:net';
import { describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.ts';

const secret = 'upgrade-reset-secret-of-at-least-32-bytes';
it.override({
  originOptions: { env: { EDGE_SIGNATURE_CHECK: 'on', EDGE_SIGNING_SECRET: secret } },
});

/** Sends an upgrade request for `/v1/ws` and resets the connection right behind it. */
function upgradeThenReset(port: number, signed: boolean): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      const headers = [
        'GET /v1/ws HTTP/1.1',
        'Host: 127.0.0.1',
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version: 13',
        // A signature that fails only after the HMAC is computed, off the event loop: well
        // formed and fresh, so it passes every check that needs no key.
        ...(signed
          ? [
              `x-edge-timestamp: ${Math.floor(Date.now() / 1000)}`,
              'x-edge-client-ip: 203.0.113.7',
              'x-request-id: upgrade-reset',
              `x-edge-signature: v2=${'A'.repeat(43)}`,
            ]
          : []),
      ];
      socket.write(`${headers.join('\r\n')}\r\n\r\n`, () => socket.resetAndDestroy());
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
  });
}

describe('an upgrade reset by its client mid-check', () => {
  it('leaves the origin running and healthy', async ({ origin }) => {
    const port = origin.port;
    for (let round = 0; round < 10; round++) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => upgradeThenReset(port, i % 2 === 0)));
    }
    // Let the origin finish with every one of them before looking.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(origin.child.exitCode, origin.output().slice(-2000)).toBeNull();
    const health = await fetch(`${origin.url}/healthz`);
    expect(health.status).toBe(200);
  });
});
