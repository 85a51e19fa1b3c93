import { describe, expect, it } from 'vitest';
import { aboutWait, ordinal, queueLine } from '../../../edge/ui/src/views/queue-line.ts';

describe('ordinal', () => {
  it('says st, nd, rd and th as English does, 11th to 13th included', () => {
    const cases: [number, string][] = [
      [1, '1st'],
      [2, '2nd'],
      [3, '3rd'],
      [4, '4th'],
      [10, '10th'],
      [11, '11th'],
      [12, '12th'],
      [13, '13th'],
      [21, '21st'],
      [22, '22nd'],
      [23, '23rd'],
      [101, '101st'],
      [111, '111th'],
      [112, '112th'],
      [1002, '1002nd'],
    ];
    for (const [n, expected] of cases) expect(ordinal(n), String(n)).toBe(expected);
  });
});

describe('aboutWait', () => {
  it('counts seconds under a minute and a half', () => {
    expect(aboutWait(1)).toBe('about 1 s');
    expect(aboutWait(40)).toBe('about 40 s');
    expect(aboutWait(89)).toBe('about 89 s');
  });

  it('rounds to whole minutes from 90 s', () => {
    expect(aboutWait(90)).toBe('about 2 min');
    expect(aboutWait(100)).toBe('about 2 min');
    expect(aboutWait(149)).toBe('about 2 min');
    expect(aboutWait(150)).toBe('about 3 min');
    expect(aboutWait(59 * 60)).toBe('about 59 min');
  });

  it('says hours and minutes from an hour, and hours alone on the hour', () => {
    expect(aboutWait(3570)).toBe('about 1 h');
    expect(aboutWait(3600)).toBe('about 1 h');
    expect(aboutWait(3900)).toBe('about 1 h 5 min');
    expect(aboutWait(2 * 3600 + 30 * 60)).toBe('about 2 h 30 min');
    expect(aboutWait(26 * 3600)).toBe('about 26 h');
  });
});

describe('queueLine', () => {
  it('gives the place in line and the estimated start', () => {
    expect(queueLine(3, 40)).toBe('3rd in line, about 40 s');
    expect(queueLine(12, 100)).toBe('12th in line, about 2 min');
    expect(queueLine(21, 3900)).toBe('21st in line, about 1 h 5 min');
  });

  it('says a job estimated to start now is starting soon', () => {
    expect(queueLine(1, 0)).toBe('1st in line, starting soon');
  });

  it('gives the place alone when there is no estimate', () => {
    expect(queueLine(3, null)).toBe('3rd in line');
  });
});
