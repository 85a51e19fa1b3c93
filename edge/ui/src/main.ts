import { ApiClientError } from '../../../shared/client.ts';
import { byId } from './dom.ts';
import { LiveSocket } from './live.ts';
import { clearErrors, showError, unreachableCodes } from './notify.ts';
import { api, session } from './session.ts';
import { setUpAuth } from './views/auth.ts';
import { setUpBilling } from './views/billing.ts';
import { setUpGenerate } from './views/generate.ts';
import { JobList } from './views/jobs.ts';
import { setUpKeys } from './views/keys.ts';
import { setUpPassword } from './views/password.ts';

const jobs = new JobList();
const live = new LiveSocket(() => session.token, {
  onJob: (job) => jobs.upsert(job),
  onQueue: (jobId, position, etaSeconds) => jobs.moveInQueue(jobId, position, etaSeconds),
  onOnline: (online) => {
    byId('offline').hidden = online;
    // Back online: what happened meanwhile may include jobs we were not following, and
    // the errors of requests that failed while the server was away no longer hold.
    if (online) {
      clearErrors(unreachableCodes);
      void refreshBalance();
    }
  },
  onUnauthorized: () => signOut(),
});
/** The signed-in account's email, once `/v1/me` answered. */
let email: string | undefined;
jobs.onActive = (job) => live.follow(job.id, job.seq);
jobs.onFinished = (job) => {
  live.unfollow(job.id);
  void refreshBalance();
  void billing.refreshLedger();
};

async function refreshBalance(): Promise<number | undefined> {
  try {
    const me = await api.me();
    const who = byId('who');
    email = me.user.email;
    who.textContent = me.user.email;
    who.title = me.user.email; // the whole address, where a narrow screen cuts it short
    byId('balance').textContent = `${me.credits} credit${me.credits === 1 ? '' : 's'}`;
    return me.credits;
  } catch (error) {
    if (error instanceof ApiClientError && error.status === 401) signOut();
    else showError(error, 'Could not load your balance');
    return undefined;
  }
}

const billing = setUpBilling(refreshBalance);
const generate = setUpGenerate((job) => {
  jobs.upsert(job);
  void refreshBalance();
  void billing.refreshLedger();
});
const keys = setUpKeys();
setUpPassword({
  email: () => email,
  pause: () => live.pause(),
  resume: () => live.connect(),
  signedOut: () => signOut(),
});

function show(signedIn: boolean): void {
  byId('auth-view').hidden = signedIn;
  byId('app-view').hidden = !signedIn;
  byId('account').hidden = !signedIn;
}

async function enter(): Promise<void> {
  show(true);
  live.connect();
  const credits = await refreshBalance();
  if (credits === undefined && !session.token) return;
  await Promise.all([generate.load(), jobs.loadFirstPage(), billing.load(), keys.load()]);
}

/** Forgets the session on this page (the server refused it, or it was ended). */
function signOut(): void {
  session.clear();
  email = undefined;
  live.close();
  jobs.clear();
  byId('offline').hidden = true;
  show(false);
}

byId('sign-out').addEventListener('click', async () => {
  // The server ends the session, so a copy of the token is refused too; the page forgets it
  // whatever the answer (a 401: it had ended already).
  try {
    await api.logout();
  } catch (error) {
    if (!(error instanceof ApiClientError && error.status === 401)) {
      showError(error, 'The session could not be ended on the server');
    }
  }
  signOut();
});
setUpAuth(() => void enter());

if (session.token) void enter();
else show(false);
