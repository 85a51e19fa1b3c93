/**
 * The web UI in a real Chromium against the whole system as `npm start` runs it (the edge
 * in workerd serving dist/ui and the API; a real origin behind it), in Stripe billing mode:
 * errors in words, the session across reloads, API keys, and buying credits. This machine
 * cannot reach Stripe: the origin talks to a local double of Stripe's API, Checkout's page
 * is stubbed in the browser, and the payment is confirmed the way Stripe confirms it, with a
 * signed `checkout.session.completed` event posted to the edge.
 */
import type { Page } from 'playwright-core';
import { describe, expect } from 'vitest';
import { uniqueEmail } from '../helpers/api.ts';
import { openPage, signUpInPage, testPassword, tokenOf } from '../helpers/browser.ts';
import {
  checkoutSession,
  signStripe,
  stripeEvent,
  stripeModeEnv,
  testWebhookSecret,
} from '../helpers/stripe.ts';
import { it } from '../helpers/ui-fixtures.ts';

// The origin is pointed at the Stripe double, which starts before it.
it.override('systemOptions', ({ stripe }) => ({
  originEnv: { ...stripeModeEnv(stripe) },
  edgeVars: { STRIPE_WEBHOOK_SECRET: testWebhookSecret },
}));

const signedIn = (page: Page) => page.getByRole('button', { name: 'Sign out' }).waitFor();

/** The page shows the sign-in form, and nothing of the signed-in app. */
async function expectSignedOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  expect(await page.getByRole('button', { name: 'Sign out' }).isHidden()).toBe(true);
  expect(await page.getByRole('button', { name: 'Generate' }).isHidden()).toBe(true);
  expect(await tokenOf(page)).toBeNull();
}

describe('the UI in Stripe mode', () => {
  it('shows API errors in words with their code: a wrong password, a prompt too long', async ({
    browser,
    system,
  }) => {
    const user = await system.api.signUp(uniqueEmail(), testPassword);
    const { page } = await openPage(browser, system.url);
    const alert = page.getByRole('alert');

    await page.getByRole('textbox', { name: 'Email' }).fill(user.email);
    await page.getByLabel('Password', { exact: true }).fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await alert.getByText('(unauthorized)').waitFor();
    expect(await alert.textContent()).toMatch(/^Could not sign in: .+/);
    await expectSignedOut(page);

    await page.getByLabel('Password', { exact: true }).fill(testPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await signedIn(page);
    // A success clears the old error.
    expect(await alert.textContent()).toBe('');

    // 501 characters: past the textarea's maxlength, as a script (or an old page) could send.
    await page.getByRole('textbox', { name: 'Prompt' }).evaluate((el: HTMLTextAreaElement) => {
      el.value = 'x'.repeat(501);
    });
    await page.getByRole('button', { name: 'Generate' }).click();
    await alert.getByText('(invalid_request)').waitFor();
    const text = (await alert.textContent()) ?? '';
    expect(text).toMatch(/^Could not start the job: /);
    // What is wrong, and where, not just that something is.
    expect(text).toMatch(/prompt/);
    expect(text).toMatch(/500/);
    await page.getByText('No jobs yet').waitFor();
    await page.locator('#balance', { hasText: '0 credits' }).waitFor();
  });

  it('stays signed in across a reload; Sign out returns to the form and stays out', async ({
    browser,
    system,
  }) => {
    const { page } = await openPage(browser, system.url);
    const email = await signUpInPage(page);

    await page.reload();
    await signedIn(page);
    await page.locator('#who', { hasText: email }).waitFor();
    await page.locator('#balance', { hasText: '0 credits' }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expectSignedOut(page);
    await page.reload();
    await expectSignedOut(page);
    expect(await page.getByRole('textbox', { name: 'Email' }).isVisible()).toBe(true);
  });

  it('creates an API key, shows it once, and revokes it', async ({ browser, system }) => {
    const { page } = await openPage(browser, system.url);
    const email = await signUpInPage(page);

    await page.getByRole('textbox', { name: 'Key name' }).fill('build server');
    await page.getByRole('button', { name: 'Create key' }).click();
    const fresh = page.locator('#new-key');
    await fresh.getByText('shown only once').waitFor();
    const key = (await page.locator('#new-key-value').textContent()) ?? '';
    expect(key).toMatch(/^ovt_/);
    const listed = page.locator('#key-list li', { hasText: 'build server' });
    await listed.waitFor();
    expect(await listed.textContent()).not.toContain(key);
    // The curl example is ready to paste, with the key in it.
    expect(await page.locator('#curl-example').textContent()).toContain(key);

    // The key works on the API, as the user.
    const me = await system.api.call('GET', '/v1/me', { token: key });
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(email);

    // Shown once: after a reload only its name and prefix remain.
    await page.reload();
    await listed.waitFor();
    expect(await fresh.isHidden()).toBe(true);
    expect(await page.content()).not.toContain(key);

    await page.getByRole('button', { name: 'Revoke build server' }).click();
    await listed.waitFor({ state: 'detached' });
    expect((await system.api.call('GET', '/v1/me', { token: key })).status).toBe(401);
  });

  it('goes to Checkout, shows the purchase pending, then credited once Stripe confirms', async ({
    browser,
    stripe,
    system,
  }) => {
    const { page } = await openPage(browser, system.url);
    await signUpInPage(page);
    // Stripe mode grants nothing: credits are bought.
    await page.locator('#balance', { hasText: '0 credits' }).waitFor();

    // One button per pack, each saying what it buys.
    const buy = page.getByRole('button', { name: 'Buy credits' });
    await buy.first().waitFor();
    expect(await buy.count()).toBe(3);
    expect(await buy.first().getAttribute('aria-label')).toBe('Buy credits: 50 for $5.00');
    expect(await page.locator('#billing-status').textContent()).toContain('Stripe');

    await page.route('https://checkout.stripe.com/**', (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: '<!doctype html><title>Stripe Checkout (stub)</title><h1>Pay</h1>',
      }),
    );
    await buy.first().click();
    await page.waitForURL(/^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/);
    const sessionId = new URL(page.url()).pathname.split('/').at(-1) ?? '';
    const asked = stripe.sessions.at(-1) ?? {};
    expect(asked['metadata[pack]']).toBe('starter');
    const userId = asked['metadata[userId]'] ?? '';

    // Stripe sends the buyer back to the success URL the origin gave it: this edge.
    const successUrl = (asked.success_url ?? '').replace('{CHECKOUT_SESSION_ID}', sessionId);
    expect(successUrl.startsWith(`${system.url}/?checkout=success`)).toBe(true);
    await page.goto(successUrl);
    const notices = page.locator('#notices');
    await notices.getByText('your credits are pending').waitFor();
    await page.locator('#balance', { hasText: '0 credits' }).waitFor();
    // The query is dropped, so a reload does not wait for the purchase again.
    expect(new URL(page.url()).search).toBe('');

    // Stripe confirms the payment: a signed event through the edge.
    const body = JSON.stringify(
      stripeEvent(
        'checkout.session.completed',
        checkoutSession({ id: sessionId, userId, pack: 'starter', amount: 500 }),
      ),
    );
    const res = await system.api.call('POST', '/v1/webhooks/stripe', {
      body,
      headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(body) },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);

    await notices.getByText('50 credits added.').waitFor();
    await page.locator('#balance', { hasText: '50 credits' }).waitFor();
    expect(await notices.getByText('your credits are pending').count()).toBe(0);
    await page.locator('#ledger li', { hasText: 'Purchase' }).filter({ hasText: '+50' }).waitFor();
  });

  it('says that nothing was charged when Checkout is canceled', async ({ browser, system }) => {
    const { page } = await openPage(browser, system.url);
    await signUpInPage(page);

    await page.goto('/?checkout=canceled');
    await page.locator('#notices').getByText('Checkout canceled: nothing was charged.').waitFor();
    await page.locator('#balance', { hasText: '0 credits' }).waitFor();
  });
});
