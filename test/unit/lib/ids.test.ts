import { describe, expect, it } from 'vitest';
import { newId } from '../../../origin/lib/ids.ts';
import { idSchema } from '../../../shared/schemas/jobs.ts';

const crockford = /^[0-9A-HJKMNP-TV-Z]{26}$/;

describe('newId', () => {
  it('is a prefix, an underscore and 26 Crockford base32 characters', () => {
    const id = newId('job');
    const [prefix, body] = id.split('_');
    expect(prefix).toBe('job');
    expect(body).toMatch(crockford);
    expect(idSchema.safeParse(id).success).toBe(true);
  });

  it('starts with the time, so ids of later milliseconds sort after', () => {
    const earlier = newId('job', Date.UTC(2030, 0, 1));
    const later = newId('job', Date.UTC(2030, 0, 1) + 1);
    expect(earlier < later).toBe(true);
    expect(earlier.slice(4, 14)).not.toBe(later.slice(4, 14));
    expect(later.slice(4, 14) > earlier.slice(4, 14)).toBe(true);
  });

  it('sorts many ids made in the same millisecond in creation order, all distinct', () => {
    const at = Date.UTC(2031, 5, 6);
    const ids = Array.from({ length: 5000 }, () => newId('job', at));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids.map((id) => id.slice(4, 14))).size).toBe(1);
  });

  it('stays ordered when the clock goes backwards', () => {
    const at = Date.UTC(2032, 0, 1);
    const first = newId('job', at);
    const second = newId('job', at - 5000);
    expect(second > first).toBe(true);
  });

  it('orders ids made with the real clock', () => {
    const ids = Array.from({ length: 2000 }, () => newId('usr'));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
