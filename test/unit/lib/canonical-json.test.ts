import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../origin/lib/canonical-json.ts';

describe('canonicalJson', () => {
  it('sorts keys at every depth, inside arrays too', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }], c: { z: { y: 1, x: 2 }, a: null } })).toBe(
      '{"a":[{"c":2,"d":1}],"b":1,"c":{"a":null,"z":{"x":2,"y":1}}}',
    );
  });

  it('gives one text for equal values written in any key order', () => {
    const one = { prompt: 'rain', seed: 3, options: { tempo: 90, key: 'C', tags: ['a', 'b'] } };
    const two = { options: { tags: ['a', 'b'], key: 'C', tempo: 90 }, seed: 3, prompt: 'rain' };
    expect(canonicalJson(one)).toBe(canonicalJson(two));
    expect(JSON.parse(canonicalJson(one))).toEqual(one);
  });

  it('keeps array order, which is meaningful', () => {
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
  });

  it('tells different values apart', () => {
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: '1' }));
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: 1, b: null }));
  });

  it('writes scalars as JSON does and drops undefined properties', () => {
    expect(canonicalJson('x"y')).toBe('"x\\"y"');
    expect(canonicalJson(1.5)).toBe('1.5');
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
  });

  it('gives one text for integer-like keys in any order', () => {
    expect(canonicalJson({ 10: 'a', 9: 'b', x: 1 })).toBe(canonicalJson({ x: 1, 9: 'b', 10: 'a' }));
  });

  it('orders keys by code unit, not by locale', () => {
    expect(canonicalJson({ b: 1, B: 2, a: 3, é: 4, _: 5 })).toBe('{"B":2,"_":5,"a":3,"b":1,"é":4}');
  });
});
