import { describe, expect, it } from 'vitest';
import { decodeWav, encodeWav } from '../../../models/tone-diffusion/wav.ts';

const ascii = (bytes: Uint8Array, offset: number) =>
  String.fromCharCode(...bytes.subarray(offset, offset + 4));

function int16At(bytes: Uint8Array, index: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getInt16(44 + index * 2, true);
}

describe('encodeWav', () => {
  it('writes a canonical 44-byte PCM header', () => {
    const bytes = encodeWav(new Float32Array(10), 22050);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(bytes.length).toBe(44 + 20);
    expect(ascii(bytes, 0)).toBe('RIFF');
    expect(view.getUint32(4, true)).toBe(bytes.length - 8);
    expect(ascii(bytes, 8)).toBe('WAVE');
    expect(ascii(bytes, 12)).toBe('fmt ');
    expect(view.getUint32(16, true)).toBe(16);
    expect(view.getUint16(20, true)).toBe(1); // PCM
    expect(view.getUint16(22, true)).toBe(1); // mono
    expect(view.getUint32(24, true)).toBe(22050);
    expect(view.getUint32(28, true)).toBe(22050 * 2); // byte rate
    expect(view.getUint16(32, true)).toBe(2); // block align
    expect(view.getUint16(34, true)).toBe(16);
    expect(ascii(bytes, 36)).toBe('data');
    expect(view.getUint32(40, true)).toBe(20);
  });

  it('clamps out-of-range samples to 16 bits and silences NaN', () => {
    const bytes = encodeWav(Float32Array.of(2, -2, 1, -1, 0, Number.NaN, 0.5, -0.25), 8000);
    const values = Array.from({ length: 8 }, (_, i) => int16At(bytes, i));
    expect(values).toEqual([32767, -32767, 32767, -32767, 0, 0, 16384, -8192]);
  });

  it('encodes an empty signal as a header only', () => {
    const bytes = encodeWav(new Float32Array(0), 24000);
    expect(bytes.length).toBe(44);
    expect(decodeWav(bytes).samples.length).toBe(0);
  });

  it('rejects a sample rate that is not a positive integer', () => {
    expect(() => encodeWav(new Float32Array(1), 0)).toThrow(RangeError);
    expect(() => encodeWav(new Float32Array(1), 22050.5)).toThrow(RangeError);
  });
});

describe('decodeWav', () => {
  it('round-trips encodeWav within 16-bit quantization', () => {
    const samples = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i * 0.37) * 0.9);
    const wav = decodeWav(encodeWav(samples, 22050));
    expect(wav).toMatchObject({ sampleRate: 22050, channels: 1, bitsPerSample: 16 });
    expect(wav.samples.length).toBe(samples.length);
    for (let i = 0; i < samples.length; i++) {
      expect(Math.abs((wav.samples[i] ?? 9) - (samples[i] ?? 0))).toBeLessThanOrEqual(0.5 / 32767);
    }
  });

  it('skips unknown chunks before the data chunk', () => {
    const plain = encodeWav(Float32Array.of(0.25, -0.25), 16000);
    // Insert a 3-byte LIST chunk (padded to 4) between fmt and data, and fix the RIFF size.
    const extra = Uint8Array.of(
      ...'LIST'.split('').map((c) => c.charCodeAt(0)),
      3,
      0,
      0,
      0,
      1,
      2,
      3,
      0,
    );
    const bytes = new Uint8Array(plain.length + extra.length);
    bytes.set(plain.subarray(0, 36));
    bytes.set(extra, 36);
    bytes.set(plain.subarray(36), 36 + extra.length);
    new DataView(bytes.buffer).setUint32(4, bytes.length - 8, true);
    const wav = decodeWav(bytes);
    expect(wav.sampleRate).toBe(16000);
    expect(Array.from(wav.samples)).toEqual([8192, -8192].map((v) => Math.fround(v / 32767)));
  });

  it('rejects files that are not 16-bit PCM WAV', () => {
    expect(() => decodeWav(new Uint8Array(44))).toThrow(/RIFF/);
    const truncated = encodeWav(new Float32Array(100), 22050).subarray(0, 100);
    expect(() => decodeWav(truncated)).toThrow(/past the end/);
    const float = encodeWav(new Float32Array(4), 22050);
    new DataView(float.buffer).setUint16(20, 3, true); // IEEE float format code
    expect(() => decodeWav(float)).toThrow(/PCM/);
  });
});
