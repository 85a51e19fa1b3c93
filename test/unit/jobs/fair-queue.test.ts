import { describe, expect, it } from 'vitest';
import { fairOrder, heldByUser, positionsIn } from '../../../origin/jobs/fair-queue.ts';

const job = (id: string, userId: string, userLastStartedAt: number | null = null, model = 'm') => ({
  id,
  userId,
  userLastStartedAt,
  model,
});

describe('the fair order', () => {
  it('puts a second user’s one job before a first user’s backlog', () => {
    const queued = [job('j1', 'a'), job('j2', 'a'), job('j3', 'a'), job('j4', 'b')];
    expect(fairOrder(queued, new Map([['a', 2]])).map((j) => j.id)).toEqual([
      'j4',
      'j1',
      'j2',
      'j3',
    ]);
  });

  it('alternates users of equal demand, oldest first within each, ties by id', () => {
    const queued = [job('j1', 'a'), job('j2', 'a'), job('j3', 'b'), job('j4', 'b'), job('j5', 'c')];
    expect(fairOrder(queued, new Map()).map((j) => j.id)).toEqual(['j1', 'j3', 'j5', 'j2', 'j4']);
  });

  it('weights by threads held: a user holding two yields two turns', () => {
    const queued = [job('j1', 'a'), job('j2', 'b'), job('j3', 'b'), job('j4', 'b')];
    expect(fairOrder(queued, new Map([['a', 2]])).map((j) => j.id)).toEqual([
      'j2',
      'j3',
      'j1',
      'j4',
    ]);
  });

  it('gives a tie to the user whose last job started longest ago, so a third user is not starved', () => {
    // Two threads, three users: a ran at 10, b at 20, c never. c goes first, then a, then b,
    // though a and b have the older jobs.
    const queued = [job('j1', 'a', 10), job('j2', 'b', 20), job('j3', 'c')];
    expect(fairOrder(queued, new Map()).map((j) => j.id)).toEqual(['j3', 'j1', 'j2']);
    const later = [job('j1', 'a', 30), job('j2', 'b', 20), job('j3', 'c', 25)];
    expect(fairOrder(later, new Map()).map((j) => j.id)).toEqual(['j2', 'j3', 'j1']);
  });

  it('counts threads per user and numbers positions from 1', () => {
    const held = heldByUser([{ userId: 'a' }, { userId: 'a' }, { userId: 'b' }]);
    expect(held).toEqual(
      new Map([
        ['a', 2],
        ['b', 1],
      ]),
    );
    const positions = positionsIn(
      fairOrder([job('j1', 'a'), job('j2', 'b'), job('j3', 'c')], held),
    );
    expect(positions).toEqual(
      new Map([
        ['j3', 1],
        ['j2', 2],
        ['j1', 3],
      ]),
    );
  });

  it("numbers positions within each model's own jobs: each model has its own pool", () => {
    const order = [
      job('a1', 'a', null, 'slow'),
      job('b1', 'b', null, 'fast'),
      job('a2', 'a', null, 'slow'),
    ];
    expect(positionsIn(order)).toEqual(
      new Map([
        ['a1', 1],
        ['b1', 1],
        ['a2', 2],
      ]),
    );
  });

  it('keeps the order of an empty queue empty, and does not reorder its input', () => {
    expect(fairOrder([], new Map())).toEqual([]);
    const queued = [job('j1', 'a'), job('j2', 'b')];
    fairOrder(queued, new Map([['a', 5]]));
    expect(queued.map((j) => j.id)).toEqual(['j1', 'j2']);
  });
});
