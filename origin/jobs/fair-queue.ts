/**
 * The fair order of the queue: which queued job starts next, across users. Each user's
 * queued jobs keep their own order (oldest first); between users, the next to start is the
 * oldest job of the user holding the fewest threads now (running jobs, jobs storing their
 * outputs, and jobs canceled while running until their task has left its thread), and among users holding as few, of
 * the one whose last job started longest ago (never: first). So a user with 100 queued jobs
 * and a user with 1: the second starts as soon as a thread is free and the first holds more
 * threads than the second, which is at most one more of the first's jobs; users with equal
 * demand take turns, also when there are more users than threads.
 *
 * This is round robin over users weighted by what each holds, the virtual time of a job
 * being its user's threads held plus its rank among the user's queued jobs: the k-th queued
 * job of a user holding h threads has turn h + k, and the queue runs in (turn, the user's
 * last start, id) order. Without the last start, ties would go to the oldest job, and with
 * fewer threads than users two early users would take every turn from a third.
 * Claims take the first of that order (SQLite orders the queue with this function in its
 * claim's transaction; PostgreSQL's claim orders by the same turn, last start and id in SQL,
 * with SKIP LOCKED); positions and ETAs read the whole order.
 */

/** A queued job as the order needs it. */
export interface QueuedJob {
  id: string;
  userId: string;
  /** When a job of its user last started (epoch ms); null if none ever did. */
  userLastStartedAt: number | null;
}

/** `queued` in id order (oldest first), `held` the threads each user holds: the fair order. */
export function fairOrder<T extends QueuedJob>(
  queued: readonly T[],
  held: ReadonlyMap<string, number>,
): T[] {
  const rank = new Map<string, number>();
  const turns = queued.map((job) => {
    const k = (rank.get(job.userId) ?? 0) + 1;
    rank.set(job.userId, k);
    return { job, turn: (held.get(job.userId) ?? 0) + k };
  });
  turns.sort(
    (a, b) =>
      a.turn - b.turn ||
      (a.job.userLastStartedAt ?? -1) - (b.job.userLastStartedAt ?? -1) ||
      compareIds(a.job.id, b.job.id),
  );
  return turns.map(({ job }) => job);
}

/** Threads held per user, from the users of the jobs holding one (one entry per job). */
export function heldByUser(holders: readonly { userId: string }[]): Map<string, number> {
  const held = new Map<string, number>();
  for (const { userId } of holders) held.set(userId, (held.get(userId) ?? 0) + 1);
  return held;
}

/**
 * The 1-based position of each job of an order already made (`fairOrder`'s answer) among the
 * jobs of its own model: each model has a pool of its own, so 1 is the next of its model to
 * start, whatever other models have queued.
 */
export function positionsIn(order: readonly { id: string; model: string }[]): Map<string, number> {
  const ahead = new Map<string, number>();
  return new Map(
    order.map((job) => {
      const position = (ahead.get(job.model) ?? 0) + 1;
      ahead.set(job.model, position);
      return [job.id, position];
    }),
  );
}

/** Ids sort by creation time (`newId`): plain code-unit order, as both databases sort text. */
const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
