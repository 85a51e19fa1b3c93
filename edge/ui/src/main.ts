import { ApiClientError } from '../../../shared/client.ts';
import { uiPages } from '../../../shared/ui-pages.ts';
import { byId } from './dom.ts';
import { LiveSocket } from './live.ts';
import { clearErrors, showError, unreachableCodes } from './notify.ts';
import { api, session } from './session.ts';
import { setUpAuth } from './views/auth.ts';
import { setUpBilling } from './views/billing.ts';
import { setUpDashboard } from './views/dashboard.ts';
import { setUpGenerate } from './views/generate.ts';
import { JobList } from './views/jobs.ts';
import { setUpKeys } from './views/keys.ts';
import { setUpPassword } from './views/password.ts';
import { setUpUsage } from './views/usage.ts';

/** This page's view: the operator dashboard at its path, else the main page. */
const onDashboard = location.pathname === uiPages.dashboard;

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
  void usage.refresh();
};

/** The account from `/v1/me`: its balance and address shown, the dashboard link for admins. */
async function refreshMe(): Promise<{ credits: number; admin: boolean } | undefined> {
  try {
    const me = await api.me();
    const who = byId('who');
    email = me.user.email;
    who.textContent = me.user.email;
    who.title = me.user.email; // the whole address, where a narrow screen cuts it short
    byId('balance').textContent = `${me.credits} credit${me.credits === 1 ? '' : 's'}`;
    byId('dashboard-link').hidden = !me.admin || onDashboard;
    return me;
  } catch (error) {
    if (error instanceof ApiClientError && error.status === 401) signOut();
    else showError(error, 'Could not load your balance');
    return undefined;
  }
}

async function refreshBalance(): Promise<number | undefined> {
  return (await refreshMe())?.credits;
}

const billing = setUpBilling(refreshBalance);
const usage = setUpUsage();
const dashboard = setUpDashboard();
const generate = setUpGenerate((job) => {
  jobs.upsert(job);
  void refreshBalance();
  void billing.refreshLedger();
  void usage.refresh();
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
  byId('app-view').hidden = !signedIn || onDashboard;
  byId('account').hidden = !signedIn;
  byId('home-link').hidden = !onDashboard;
  if (!signedIn) {
    byId('dashboard-link').hidden = true;
    dashboard.close();
  }
}

async function enter(): Promise<void> {
  show(true);
  if (onDashboard) {
    // The dashboard polls every user's figures; it follows no job of this user's.
    const me = await refreshMe();
    if (me) dashboard.open(me.admin);
    return;
  }
  live.connect();
  const credits = await refreshBalance();
  if (credits === undefined && !session.token) return;
  await Promise.all([
    generate.load(),
    jobs.loadFirstPage(),
    billing.load(),
    keys.load(),
    usage.refresh(),
  ]);
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
