import { describe, expect, it } from 'vitest';
import { encodeWav } from '../../../models/tone-diffusion/wav.ts';
import { encodeMp3, mp3Kbps } from '../../../origin/audio/encode-mp3.ts';
import { NotPcmWavError, readPcmWav } from '../../../origin/audio/pcm-wav.ts';
import { mp3Frames } from '../../helpers/mp3-frames.ts';

const tone = (seconds: number, sampleRate: number) =>
  Float32Array.from({ length: seconds * sampleRate }, (_, i) => 0.5 * Math.sin(i / 7));

describe('readPcmWav', () => {
  it("reads tone-diffusion's WAV back sample for sample", () => {
    const samples = tone(1, 22_050);
    const { sampleRate, channels } = readPcmWav(encodeWav(samples, 22_050));
    expect(sampleRate).toBe(22_050);
    expect(channels).toHaveLength(1);
    expect(channels[0]?.length).toBe(samples.length);
    expect(channels[0]?.[100]).toBe(Math.round((samples[100] ?? 0) * 32767));
  });

  it('refuses what is not 16-bit PCM WAV, saying why', () => {
    expect(() => readPcmWav(new TextEncoder().encode('not a wav at all'))).toThrow(NotPcmWavError);
    const wav = encodeWav(tone(1, 8_000), 8_000);
    const float = wav.slice();
    new DataView(float.buffer).setUint16(20, 3, true); // IEEE float
    expect(() => readPcmWav(float)).toThrow(/not 16-bit PCM \(format 3, 16 bits\)/);
    expect(() => readPcmWav(wav.slice(0, 36))).toThrow(/no data chunk/);
  });
});

describe('encodeMp3', () => {
  it('makes an MP3 whose every frame parses, as long as the WAV, at its bitrate', () => {
    for (const [seconds, rate, kbps] of [
      [2, 22_050, 48],
      [1, 44_100, 64],
    ] as const) {
      const audio = readPcmWav(encodeWav(tone(seconds, rate), rate));
      expect(mp3Kbps(audio)).toBe(kbps);
      const mp3 = encodeMp3(audio);
      const summary = mp3Frames(mp3);
      expect(summary).toMatchObject({ sampleRate: rate, kbps, channels: 1 });
      // The encoder's delay and padding add a few frames of the format at most.
      expect(summary.seconds).toBeGreaterThanOrEqual(seconds);
      expect(summary.seconds).toBeLessThan(seconds + (3 * 1152) / rate);
      // Constant bitrate: kbps / 8 KB a second, give or take a frame.
      expect(mp3.length).toBeGreaterThan(seconds * kbps * 125 * 0.95);
      expect(mp3.length).toBeLessThan(seconds * kbps * 125 * 1.1);
    }
    // Stereo at 44.1 kHz: 128 kbps.
    const stereo = { sampleRate: 44_100, channels: [new Int16Array(10), new Int16Array(10)] };
    expect(mp3Kbps(stereo)).toBe(128);
  });

  it('is not fooled by a file that only starts like an MP3', () => {
    const mp3 = encodeMp3(readPcmWav(encodeWav(tone(1, 22_050), 22_050)));
    const broken = new Uint8Array([...mp3.subarray(0, 1000), 1, 2, 3, ...mp3.subarray(1000)]);
    expect(() => mp3Frames(broken)).toThrow(/no frame sync|bytes after/);
  });
});
