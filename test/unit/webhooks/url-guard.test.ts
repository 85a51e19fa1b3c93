import { createSocket } from 'node:dgram';
import type { LookupAddress } from 'node:dns';
import { Resolver } from 'node:dns/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  checkWebhookUrl,
  guardedLookup,
  isBlockedAddress,
} from '../../../origin/webhooks/url-guard.ts';

const blocked = [
  '127.0.0.1',
  '127.255.255.254',
  '10.1.2.3',
  '172.16.0.1',
  '172.31.255.255',
  '192.168.1.1',
  '169.254.169.254',
  '100.64.0.1',
  '0.0.0.0',
  '224.0.0.1',
  '255.255.255.255',
  '::1',
  '[::1]',
  '::',
  'fc00::1',
  'fd00::1',
  'fe80::1',
  'fe80::1%eth0',
  'ff02::1',
  '::ffff:127.0.0.1',
  '::ffff:7f00:1',
  '::FFFF:10.0.0.1',
  '64:ff9b::a9fe:a9fe',
  '0:0:0:0:0:ffff:127.0.0.1',
  // IPv4-compatible (deprecated), whatever the IPv4 address: ::/96.
  '::127.0.0.1',
  '::7f00:1',
  '::a9fe:a9fe',
  '::8.8.8.8',
  '0:0:0:0:0:0:10.0.0.1',
  // IPv4-translated (SIIT): ::ffff:0:0/96.
  '::ffff:0:127.0.0.1',
  '::ffff:0:7f00:1',
  '::ffff:0:8.8.8.8',
  // 6to4 (2002::/16): the IPv4 address rides in bits 16–48.
  '2002:7f00:1::1',
  '2002:a9fe:a9fe::',
  '2002:808:808::1',
  // NAT64 for local use (64:ff9b:1::/48).
  '64:ff9b:1::a00:1',
  '64:ff9b:1::808:808',
  // Site-local (fec0::/10, deprecated but still routed by some stacks).
  'fec0::1',
  'FEFF::1',
  // Teredo, discard-only and documentation prefixes.
  '2001:0:4136:e378:8000:63bf:3fff:fdd2',
  '100::1',
  '2001:db8::1',
  'localhost',
  'not-an-address',
  '',
];
const allowed = [
  '8.8.8.8',
  '1.1.1.1',
  '172.15.255.255',
  '172.32.0.1',
  '192.169.0.1',
  '100.128.0.1',
  '2606:4700:4700::1111',
  '2001:4860:4860::8888',
  '::ffff:8.8.8.8',
  '64:ff9b::808:808',
  '2001:4860::1',
  'fe00::1',
];

describe('isBlockedAddress', () => {
  it.each(blocked)('blocks %s', (address) => {
    expect(isBlockedAddress(address)).toBe(true);
  });
  it.each(allowed)('allows %s', (address) => {
    expect(isBlockedAddress(address)).toBe(false);
  });
});

describe('checkWebhookUrl', () => {
  it.each([
    ['http://example.com/hooks', 'must be https'],
    ['ftp://example.com/hooks', 'must be https'],
    ['https://user:pw@example.com/hooks', 'must not carry credentials'],
    ['https://:pw@example.com/hooks', 'must not carry credentials'],
    ['https://localhost/hooks', 'loopback'],
    ['https://localhost./hooks', 'loopback'],
    ['https://Api.LocalHost/hooks', 'loopback'],
    ['https://127.0.0.1/hooks', 'private'],
    ['https://127.1/hooks', 'private'],
    ['https://0x7f000001/hooks', 'private'],
    ['https://[::1]:8443/hooks', 'private'],
    ['https://[::ffff:127.0.0.1]/hooks', 'private'],
    ['https://[fd00::1]/hooks', 'private'],
    ['https://10.0.0.1/hooks', 'private'],
    ['https://172.16.0.1/hooks', 'private'],
    ['https://192.168.1.1/hooks', 'private'],
    ['https://169.254.169.254/latest/meta-data/', 'private'],
    ['https://[::127.0.0.1]/hooks', 'private'],
    ['https://[::ffff:0:127.0.0.1]/hooks', 'private'],
    ['https://[2002:7f00:1::1]/hooks', 'private'],
    ['https://[2002:a9fe:a9fe::1]/latest/meta-data/', 'private'],
    ['https://[64:ff9b:1::a9fe:a9fe]/hooks', 'private'],
    ['https://[fec0::1]/hooks', 'private'],
    ['no scheme', 'not a URL'],
  ])('refuses %s (%s)', (raw, reason) => {
    const check = checkWebhookUrl(raw, false);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toContain(reason);
  });

  it('accepts public https URLs, normalised', () => {
    expect(checkWebhookUrl('https://Hooks.Example.com:8443/a?b=1', false)).toEqual({
      ok: true,
      url: new URL('https://hooks.example.com:8443/a?b=1'),
    });
    expect(checkWebhookUrl('https://8.8.8.8/hooks', false).ok).toBe(true);
    expect(checkWebhookUrl('https://[2606:4700::1111]/hooks', false).ok).toBe(true);
  });

  it('lets the development setting reach http and private hosts, but never credentials', () => {
    expect(checkWebhookUrl('http://127.0.0.1:8080/hooks', true).ok).toBe(true);
    expect(checkWebhookUrl('https://localhost/hooks', true).ok).toBe(true);
    expect(checkWebhookUrl('http://u:p@127.0.0.1/hooks', true).ok).toBe(false);
    expect(checkWebhookUrl('ftp://127.0.0.1/hooks', true).ok).toBe(false);
  });
});

type Resolved = { address: string | LookupAddress[]; family?: number | undefined };

function lookUp(
  allowInsecure: boolean,
  host: string,
  all: boolean,
  resolver?: Resolver,
): Promise<Resolved> {
  return new Promise((resolve, reject) => {
    guardedLookup(allowInsecure, resolver)(host, { all }, (error, address, family) =>
      error ? reject(error) : resolve({ address, family }),
    );
  });
}

const u16 = (n: number) => Buffer.from([n >> 8, n & 255]);

/**
 * A DNS server on 127.0.0.1 (UDP, port 0) answering A queries from `records`, AAAA with no
 * address, and nothing at all for the names in `silent`; answers a resolver that uses it.
 */
async function fakeDns(records: Record<string, string>, silent: string[] = []) {
  const server = createSocket('udp4');
  server.on('message', (query, from) => {
    const labels: string[] = [];
    let i = 12;
    for (let n = query[i] ?? 0; n > 0; n = query[i] ?? 0) {
      labels.push(query.subarray(i + 1, i + 1 + n).toString());
      i += n + 1;
    }
    const name = labels.join('.');
    if (silent.includes(name)) return;
    const address = query.readUInt16BE(i + 1) === 1 ? records[name] : undefined;
    const answer = address
      ? Buffer.concat([
          Buffer.from([0xc0, 0x0c]), // the question's name
          u16(1), // A
          u16(1), // IN
          Buffer.from([0, 0, 0, 60]), // TTL
          u16(4),
          Buffer.from(address.split('.').map(Number)),
        ])
      : Buffer.alloc(0);
    const header = Buffer.concat([
      query.subarray(0, 2),
      u16(0x8180),
      u16(1),
      u16(address ? 1 : 0),
      u16(0),
      u16(0),
    ]);
    server.send(
      Buffer.concat([header, query.subarray(12, i + 5), answer]),
      from.port,
      from.address,
    );
  });
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const resolver = new Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([`127.0.0.1:${server.address().port}`]);
  return resolver;
}

describe('guardedLookup', () => {
  it('refuses a name that resolves to loopback with EBLOCKED, in both lookup forms', async () => {
    for (const all of [false, true]) {
      await expect(lookUp(false, 'localhost', all)).rejects.toMatchObject({ code: 'EBLOCKED' });
    }
    await expect(lookUp(false, '169.254.169.254', false)).rejects.toMatchObject({
      code: 'EBLOCKED',
    });
  });

  // The resolver answers these forms as written (a DNS answer could carry any of them).
  it.each([
    '::127.0.0.1',
    '0:0:0:0:0:ffff:127.0.0.1',
    '::ffff:0:a9fe:a9fe',
    '2002:7f00:1::1',
    '64:ff9b:1::a00:1',
    'fec0::1',
  ])('refuses %s at connect time, in both lookup forms', async (address) => {
    for (const all of [false, true]) {
      await expect(lookUp(false, address, all)).rejects.toMatchObject({ code: 'EBLOCKED' });
    }
  });

  it('answers public addresses, in the form asked for', async () => {
    expect(await lookUp(false, '8.8.8.8', false)).toEqual({ address: '8.8.8.8', family: 4 });
    expect(await lookUp(false, '8.8.8.8', true)).toMatchObject({
      address: [{ address: '8.8.8.8', family: 4 }],
    });
  });

  it('resolves loopback under the development setting', async () => {
    const { address } = await lookUp(true, 'localhost', false);
    expect(isBlockedAddress(address as string)).toBe(true);
  });

  it('resolves a name with its own resolver, refusing it when an address is blocked', async () => {
    const resolver = await fakeDns({
      'hooks.example.test': '203.0.113.9',
      'rebound.example.test': '169.254.169.254',
    });
    expect(await lookUp(false, 'hooks.example.test', false, resolver)).toEqual({
      address: '203.0.113.9',
      family: 4,
    });
    expect(await lookUp(false, 'hooks.example.test', true, resolver)).toEqual({
      address: [{ address: '203.0.113.9', family: 4 }],
    });
    for (const all of [false, true]) {
      await expect(lookUp(false, 'rebound.example.test', all, resolver)).rejects.toMatchObject({
        code: 'EBLOCKED',
      });
    }
    await expect(lookUp(false, 'missing.example.test', false, resolver)).rejects.toMatchObject({
      code: expect.stringMatching(/^E(NODATA|NOTFOUND)$/),
    });
  });

  // The system's getaddrinfo would hold one of libuv's four threads for as long as the name
  // server keeps silent; the resolver's own deadline ends the lookup instead.
  it('gives up on a name server that never answers, within its own timeout', async () => {
    const resolver = await fakeDns({}, ['silent.example.test']);
    const started = performance.now();
    await expect(lookUp(false, 'silent.example.test', false, resolver)).rejects.toMatchObject({
      code: 'ETIMEOUT',
    });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('keeps an http request from ever connecting to a name on a blocked address', async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;

    const error = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
      const req = request(`http://localhost:${port}/`, { lookup: guardedLookup(false) }, () =>
        reject(new Error('connected')),
      );
      req.on('error', resolve);
      req.end();
    });
    expect(error.code).toBe('EBLOCKED');
    expect(hits).toBe(0);
  });
});
