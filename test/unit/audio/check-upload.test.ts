import { describe, expect, it } from 'vitest';
import { kindOf, whyNot } from '../../../origin/audio/check-upload.ts';
import { clickTrack, clickTrackMp3, flacHead, oggPage } from '../../helpers/audio-fixtures.ts';

describe('kindOf', () => {
  it('names the kind of each content type taken, parameters and case aside, and no other', () => {
    expect(kindOf('audio/x-wav; codecs=1')).toBe('wav');
    expect(kindOf('Audio/MPEG')).toBe('mp3');
    expect(kindOf('audio/flac')).toBe('flac');
    expect(kindOf('application/ogg')).toBe('ogg');
    expect(kindOf('image/png')).toBeUndefined();
    expect(kindOf('')).toBeUndefined();
  });
});

describe('whyNot', () => {
  it('takes each kind that is what it says', () => {
    expect(whyNot('wav', clickTrack(2, 1))).toBeUndefined();
    expect(whyNot('mp3', clickTrackMp3(2))).toBeUndefined();
    // An MP3 behind an ID3v2 tag, and one with an ID3v1 tag at its end.
    const id3 = new Uint8Array([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 5]);
    expect(whyNot('mp3', new Uint8Array([...id3, ...clickTrackMp3(2)]))).toBeUndefined();
    const tag = new Uint8Array(128).fill(32);
    tag.set([0x54, 0x41, 0x47]);
    expect(whyNot('mp3', new Uint8Array([...clickTrackMp3(2), ...tag]))).toBeUndefined();
    expect(whyNot('flac', flacHead())).toBeUndefined();
    expect(whyNot('ogg', oggPage(new Uint8Array(50).fill(3)))).toBeUndefined();
  });

  it('says why bytes are not what they claim', () => {
    const wav = clickTrack(2, 1);
    expect(whyNot('wav', new TextEncoder().encode('hello'))).toBe('not a RIFF/WAVE file');
    expect(whyNot('wav', wav.slice(0, 40))).toMatch(/runs past the end|no data chunk/);
    const truncated = clickTrackMp3(2);
    expect(whyNot('mp3', truncated.slice(0, truncated.length - 7))).toMatch(
      /bytes after the last frame|no frame/,
    );
    expect(whyNot('mp3', wav)).toMatch(/no frame sync/);
    expect(whyNot('flac', wav)).toBe('no fLaC marker');
    const noRate = flacHead();
    noRate.fill(0, 18, 21);
    expect(whyNot('flac', noRate)).toBe('a sample rate of 0 Hz');
    expect(whyNot('ogg', oggPage(new Uint8Array(50), true))).toBe(
      'its first page fails its checksum',
    );
    expect(whyNot('ogg', oggPage(new Uint8Array(50)).slice(0, 40))).toBe(
      'its first page runs past the end',
    );
  });
});
