import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Resolver } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Addresses a webhook may never reach: loopback, private, link-local (cloud metadata), and the like. */
const blocked = new BlockList();
// Apart: a BlockList matches IPv4 rules against IPv4-mapped IPv6 addresses and back.
const blocked6 = new BlockList();
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
  // IPv4-compatible `::a.b.c.d` (deprecated; `::` and `::1` among them): whatever it carries.
  ['::', 96],
  // IPv4-translated `::ffff:0:a.b.c.d` (SIIT): a stack may reach the IPv4 address it carries.
  ['::ffff:0:0:0', 96],
  // Local-use NAT64 (RFC 8215): translated by the operator's own gateway, into its network.
  ['64:ff9b:1::', 48],
  // Discard-only.
  ['100::', 64],
  // Teredo and 6to4: tunnels to an IPv4 address the guard cannot vouch for.
  ['2001::', 32],
  ['2002::', 16],
  // Documentation.
  ['2001:db8::', 32],
  // Unique-local, link-local, site-local (deprecated, still routed by some stacks), multicast.
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  blocked6.addSubnet(net, bits, 'ipv6');
}

/** The eight 16-bit groups of an IPv6 address, in any of its written forms. */
function ipv6Groups(address: string): number[] {
  // The URL parser writes an IPv6 host in its one canonical form: hex groups, no dotted tail.
  const canonical = new URL(`http://[${address}]`).hostname.slice(1, -1);
  const [head = '', tail] = canonical.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/**
 * The IPv4 address an IPv6 one stands for, where the network delivers it there: mapped
 * `::ffff:a.b.c.d`, or the well-known NAT64 prefix `64:ff9b::/96` (public NAT64 gateways).
 */
function embeddedIpv4(groups: number[]): string | undefined {
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, hi = 0, lo = 0] = groups;
  const mapped = a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0xffff;
  const nat64 = a === 0x64 && b === 0xff9b && c === 0 && d === 0 && e === 0 && f === 0;
  if (!mapped && !nat64) return undefined;
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/**
 * @example
 * isBlockedAddress('169.254.169.254'); // true: the cloud metadata service
 * isBlockedAddress('::ffff:127.0.0.1'); // true
 * isBlockedAddress('2002:a9fe:a9fe::1'); // true: 6to4
 */
export function isBlockedAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').split('%')[0] ?? '';
  const family = isIP(bare);
  if (family === 4) return blocked.check(bare, 'ipv4');
  if (family === 6) {
    const groups = ipv6Groups(bare);
    const v4 = embeddedIpv4(groups);
    if (v4 !== undefined) return blocked.check(v4, 'ipv4');
    const hex = groups.map((g) => g.toString(16)).join(':');
    return blocked6.check(hex, 'ipv6');
  }
  return true; // not an address at all
}

/** `localhost` and its subdomains, fully qualified or not. */
const isLocalhost = (host: string): boolean => {
  const name = host.replace(/\.$/, '').toLowerCase();
  return name === 'localhost' || name.endsWith('.localhost');
};

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
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isLocalhost(host)) {
    return { ok: false, reason: 'resolves to a loopback address' };
  }
  if (isIP(host) !== 0 && isBlockedAddress(host)) {
    return { ok: false, reason: 'points at a private, loopback or link-local address' };
  }
  return { ok: true, url };
}

/**
 * Resolves webhook hosts with c-ares (straight to the DNS servers, each query bounded),
 * not the system's getaddrinfo: that runs on libuv's four-thread pool, which a receiver's
 * name server that never answers would hold, and the origin's fsyncs wait on that pool.
 */
const webhookResolver = new Resolver({ timeout: 1_500, tries: 2 });

/** Every A and AAAA address of `hostname` (or the `family` asked for). */
async function resolveAll(
  resolver: Resolver,
  hostname: string,
  family: number | undefined,
): Promise<LookupAddress[]> {
  const [v4, v6] = await Promise.allSettled([
    family === 6 ? Promise.resolve([]) : resolver.resolve4(hostname),
    family === 4 ? Promise.resolve([]) : resolver.resolve6(hostname),
  ]);
  const list = [
    ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 })) : []),
    ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 })) : []),
  ];
  if (list.length > 0) return list;
  throw v4.status === 'rejected'
    ? v4.reason
    : v6.status === 'rejected'
      ? v6.reason
      : new Error(`${hostname} has no address`);
}

const refused = (hostname: string) =>
  Object.assign(new Error(`${hostname} resolves to a blocked address`), { code: 'EBLOCKED' });

/**
 * A DNS lookup for outbound webhook requests that refuses blocked addresses at connect
 * time, so a name that resolves (or re-resolves) to a private address is never reached.
 * Under the development setting it asks the system (hosts file, `localhost`) and lets
 * everything through.
 */
export function guardedLookup(
  allowInsecure: boolean,
  resolver: Resolver = webhookResolver,
): LookupFunction {
  return (hostname, options, callback) => {
    const answer = (error: NodeJS.ErrnoException | null, list: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      if (!allowInsecure && list.some((a) => isBlockedAddress(a.address))) {
        return callback(refused(hostname), '', 0);
      }
      if (options.all) return (callback as (e: null, a: LookupAddress[]) => void)(null, list);
      const first = list[0];
      if (!first) return callback(new Error(`${hostname} has no address`), '', 0);
      return callback(null, first.address, first.family);
    };
    if (allowInsecure) {
      dnsLookup(hostname, { ...options, all: true }, (error, addresses) =>
        answer(error, addresses ?? []),
      );
      return;
    }
    const family = isIP(hostname);
    if (family !== 0) return answer(null, [{ address: hostname, family }]);
    if (isLocalhost(hostname)) return callback(refused(hostname), '', 0);
    const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
    resolveAll(resolver, hostname, wanted).then(
      (list) => answer(null, list),
      (error: NodeJS.ErrnoException) => answer(error, []),
    );
  };
}
