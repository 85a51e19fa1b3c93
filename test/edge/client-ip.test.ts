import { describe, expect, it } from 'vitest';
import { ipBucket } from '../../edge/middleware/rate-limit/client-ip.ts';

describe('ipBucket', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['0.0.0.0', '0.0.0.0'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['::', '0:0:0:0::/64'],
    ['2001:db8:1:2:3:4:198.51.100.1', '2001:db8:1:2::/64'],
    ['::ffff:198.51.100.1', '198.51.100.1'],
    ['::FFFF:198.51.100.1', '198.51.100.1'],
    ['0:0:0:0:0:ffff:c633:6401', '198.51.100.1'],
    ['::ffff:c633:6401', '198.51.100.1'],
  ])('counts %s as %s', (address, bucket) => {
    expect(ipBucket(address)).toBe(bucket);
  });

  it('puts every address of one /64 in one bucket, and the next /64 in another', () => {
    const buckets = new Set(
      Array.from({ length: 100 }, (_, i) => ipBucket(`2001:db8:aa:bb:${i.toString(16)}::${i}`)),
    );
    expect([...buckets]).toEqual(['2001:db8:aa:bb::/64']);
    expect(ipBucket('2001:db8:aa:bc::1')).not.toBe('2001:db8:aa:bb::/64');
  });

  it.each([
    '',
    'localhost',
    '256.1.1.1',
    '1.2.3',
    '1.2.3.4.5',
    '2001:db8::1::2',
    '2001:db8:1:2:3:4:5:6:7',
    '2001:db8:1:2:3:4:5',
    '12345::1',
    'fe80::1%eth0',
    ':1::',
    '1:2:3:4:5:6:7:',
    '::ffff:1.2.3.256',
  ])('puts %j, which is no address, in the one shared bucket', (text) => {
    expect(ipBucket(text)).toBe('unparsed');
  });
});
