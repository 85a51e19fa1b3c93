import { ApiError } from '../../shared/errors.ts';
import { type StatsAnswer, type StatsQuery, windowMs } from '../../shared/schemas/stats.ts';
import type { Principal } from '../auth/principal.ts';
import type { Services } from '../services.ts';
import { summarizeByModel } from './summarize.ts';

type Deps = { store: Pick<Services['store'], 'accounts' | 'stats'> };

/**
 * True when an operator granted the account administration (`npm run admin -- grant`): read
 * on every request, so a grant or a revoke holds from the account's next request.
 */
async function isAdmin(deps: Deps, principal: Principal): Promise<boolean> {
  const user = await deps.store.accounts.findUserById(principal.userId);
  return user?.isAdmin === true;
}

/**
 * Per-model quality of the jobs created in the window ending `now`: the caller's own jobs,
 * or (`scope=all`, administrators only, else 403 `forbidden`) every user's.
 *
 * @example
 * await readStats(services, principal, { window: '24h', scope: 'own' });
 */
export async function readStats(
  deps: Deps,
  principal: Principal,
  query: StatsQuery,
  now = Date.now(),
): Promise<StatsAnswer> {
  if (query.scope === 'all' && !(await isAdmin(deps, principal))) {
    throw new ApiError('forbidden', "Only administrators may read every user's stats.");
  }
  const span = windowMs(query.window);
  if (span === undefined) throw new ApiError('invalid_request', `Bad window '${query.window}'.`);
  const from = now - span;
  const samples = await deps.store.stats.jobSamples({
    from,
    to: now,
    ...(query.scope === 'own' ? { userId: principal.userId } : {}),
  });
  return {
    scope: query.scope,
    window: query.window,
    from: new Date(from).toISOString(),
    to: new Date(now).toISOString(),
    data: summarizeByModel(samples),
  };
}
