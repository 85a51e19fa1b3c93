import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Addresses a webhook may never reach: loopback, private, link-local (cloud metadata), and the like. */
const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(net, bits, 'ipv6');
}

/** An IPv6 address that carries an IPv4 one (mapped `::ffff:a.b.c.d`, or NAT64 `64:ff9b::`). */
function embeddedIpv4(address: string): string | undefined {
  const match =
    /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(
      address,
    );
  if (!match) return undefined;
  if (match[1]) return match[1];
  const hi = Number.parseInt(match[2] ?? '0', 16);
  const lo = Number.parseInt(match[3] ?? '0', 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/**
 * @example
 * isBlockedAddress('169.254.169.254'); // true: the cloud metadata service
 * isBlockedAddress('::ffff:127.0.0.1'); // true
 */
export function isBlockedAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').split('%')[0] ?? '';
  const family = isIP(bare);
  if (family === 4) return blocked.check(bare, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIpv4(bare.toLowerCase());
    return v4 !== undefined ? blocked.check(v4, 'ipv4') : blocked.check(bare, 'ipv6');
  }
  return true; // not an address at all
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/**
 * The rule a webhook URL must pass when a job is created: https (http only with the
 * development setting), no credentials, and no host that is a blocked address or
 * `localhost` (again unless the development setting allows private targets).
 */
export function checkWebhookUrl(raw: string, allowInsecure: boolean): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a URL' };
  }
  if (url.protocol !== 'https:' && !(allowInsecure && url.protocol === 'http:')) {
    return { ok: false, reason: 'must be https' };
  }
  if (url.username || url.password) return { ok: false, reason: 'must not carry credentials' };
  if (allowInsecure) return { ok: true, url };
  // `localhost.` (fully qualified) is still localhost.
  const host = url.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) {
    return { ok: false, reason: 'resolves to a loopback address' };
  }
  if (isIP(host) !== 0 && isBlockedAddress(host)) {
    return { ok: false, reason: 'points at a private, loopback or link-local address' };
  }
  return { ok: true, url };
}

/**
 * A DNS lookup for outbound webhook requests that refuses blocked addresses at connect
 * time, so a name that resolves (or re-resolves) to a private address is never reached.
 */
export function guardedLookup(allowInsecure: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const list = addresses ?? [];
      const bad = list.find((a) => isBlockedAddress(a.address));
      if (!allowInsecure && bad) {
        const refused = Object.assign(new Error(`${hostname} resolves to a blocked address`), {
          code: 'EBLOCKED',
        });
        return callback(refused, '', 0);
      }
      if (options.all) return (callback as (e: null, a: LookupAddress[]) => void)(null, list);
      const first = list[0];
      if (!first) return callback(new Error(`${hostname} has no address`), '', 0);
      return callback(null, first.address, first.family);
    });
  };
}
