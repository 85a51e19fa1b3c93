/**
 * The address a client's requests are counted by when they carry no credential the edge can
 * check: an IPv4 address as it is, an IPv6 address by its /64 (one subscriber's usual share:
 * a client that owns a /64 has 2^64 addresses to rotate through), an IPv4-mapped IPv6
 * address (`::ffff:a.b.c.d`) as its IPv4. `cf-connecting-ip` is Cloudflare's, so anything
 * that is not an address (only possible off Cloudflare) shares one bucket.
 *
 * @example
 * ipBucket('2001:db8:1:2:aaaa::1'); // '2001:db8:1:2::/64'
 * ipBucket('::ffff:192.0.2.7');      // '192.0.2.7'
 */
export function ipBucket(address: string): string {
  const v4 = ipv4(address);
  if (v4) return v4;
  const words = ipv6(address);
  if (!words) return 'unparsed';
  const mapped = words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff;
  if (mapped) {
    const [hi = 0, lo = 0] = words.slice(6);
    return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
  }
  return `${words
    .slice(0, 4)
    .map((w) => w.toString(16))
    .join(':')}::/64`;
}

/** A dotted quad, written canonically; undefined for anything else. */
function ipv4(text: string): string | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1).map(Number);
  return octets.every((o) => o <= 255) ? octets.join('.') : undefined;
}

/** The eight 16-bit words of an IPv6 address (`::` and a trailing dotted quad allowed). */
function ipv6(text: string): number[] | undefined {
  if (!/^[0-9A-Fa-f:.]{2,45}$/.test(text)) return undefined;
  let rest = text;
  const tail: number[] = [];
  const quad = /:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(rest);
  if (quad?.[1]) {
    const v4 = ipv4(quad[1]);
    if (!v4) return undefined;
    const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
    tail.push((a << 8) | b, (c << 8) | d);
    // Keep the colon: `::1.2.3.4` must still read as `::` before the quad.
    rest = rest.slice(0, -quad[1].length);
    rest = rest.endsWith('::') ? rest : rest.slice(0, -1);
  }
  if (rest.includes('.')) return undefined;
  const halves = rest.split('::');
  if (halves.length > 2) return undefined;
  const parse = (half: string | undefined) =>
    half ? half.split(':').map((w) => (/^[0-9A-Fa-f]{1,4}$/.test(w) ? parseInt(w, 16) : NaN)) : [];
  const head = parse(halves[0]);
  const back = [...parse(halves[1]), ...tail];
  if ([...head, ...back].some(Number.isNaN)) return undefined;
  const missing = 8 - head.length - back.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  return [...head, ...Array<number>(missing).fill(0), ...back];
}
