/**
 * The web UI's sessions in a real Chromium against the whole system (edge in workerd, a real
 * origin): Sign out ends the session on the server, the password form changes the password,
 * ends every other session and signs the page in again, and the page's WebSocket carries its
 * token in its first message, never in a URL.
 */
import type { Page } from 'playwright-core';
import { describe, expect } from 'vitest';
import {
  openPage,
  signUpInPage,
  socketMessages,
  testPassword,
  tokenOf,
} from '../helpers/browser.ts';
import { it } from '../helpers/ui-fixtures.ts';

const signedIn = (page: Page) => page.getByRole('button', { name: 'Sign out' }).waitFor();

describe('sessions in the UI', () => {
  it('Sign out ends the session on the server: the old token is refused', async ({
    browser,
    system,
  }) => {
    const { page } = await openPage(browser, system.url);
    const socket = socketMessages(page);
    await signUpInPage(page);
    await socket.until((m) => m.type === 'ready');
    const token = (await tokenOf(page)) ?? '';
    expect((await system.api.call('GET', '/v1/me', { token })).status).toBe(200);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await tokenOf(page)).toBeNull();
    // Not only forgotten by the page: a copy of the token is refused too.
    expect((await system.api.call('GET', '/v1/me', { token })).status).toBe(401);
  });

  it('changes the password: the page stays signed in, every other session ends', async ({
    browser,
    system,
  }) => {
    const { page } = await openPage(browser, system.url);
    const socket = socketMessages(page);
    const email = await signUpInPage(page);
    await socket.until((m) => m.type === 'ready');
    const before = (await tokenOf(page)) ?? '';
    const elsewhere = await system.api.call('POST', '/v1/auth/login', {
      body: { email, password: testPassword },
    });
    expect(elsewhere.status).toBe(200);

    // A wrong current password is said so, and changes nothing.
    await page.getByLabel('Current password').fill('not the password');
    await page.getByLabel('New password').fill('a brand new passphrase');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('alert').getByText('(forbidden)').waitFor();
    expect(await tokenOf(page)).toBe(before);

    const newPassword = 'a brand new passphrase';
    await page.getByLabel('Current password').fill(testPassword);
    await page.getByLabel('New password').fill(newPassword);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Password changed').waitFor();
    await signedIn(page);
    const after = (await tokenOf(page)) ?? '';
    expect(after).not.toBe(before);
    for (const ended of [before, elsewhere.body.token as string]) {
      expect((await system.api.call('GET', '/v1/me', { token: ended })).status).toBe(401);
    }
    expect((await system.api.call('GET', '/v1/me', { token: after })).status).toBe(200);
    // The page follows jobs again, on a socket of its new session.
    await socket.until(() => socket.received.filter((m) => m.type === 'ready').length >= 2);
    expect(await page.locator('#offline').isHidden()).toBe(true);
    const old = await system.api.call('POST', '/v1/auth/login', {
      body: { email, password: testPassword },
    });
    expect(old.status).toBe(401);
    const fresh = await system.api.call('POST', '/v1/auth/login', {
      body: { email, password: newPassword },
    });
    expect(fresh.status).toBe(200);
  });

  it('authenticates its WebSocket with the first message: no token in any URL or log', async ({
    browser,
    system,
  }) => {
    const { page } = await openPage(browser, system.url);
    const urls: string[] = [];
    const sent: string[] = [];
    page.on('request', (r) => urls.push(r.url()));
    page.on('websocket', (ws) => {
      urls.push(ws.url());
      ws.on('framesent', (frame) => sent.push(String(frame.payload)));
    });
    const socket = socketMessages(page);
    await signUpInPage(page);
    await socket.until((m) => m.type === 'ready');
    const token = (await tokenOf(page)) ?? '';
    expect(token).not.toBe('');

    const sockets = urls.filter((u) => u.includes('/v1/ws'));
    expect(sockets.length).toBeGreaterThan(0);
    for (const url of urls) {
      expect(url).not.toContain('token=');
      expect(url).not.toContain(token);
    }
    expect(JSON.parse(sent[0] ?? '{}')).toEqual({ type: 'auth', token });
    // Neither process wrote it down.
    expect(system.origin.output()).not.toContain(token);
    expect(system.edge.output()).not.toContain(token);
  });
});
