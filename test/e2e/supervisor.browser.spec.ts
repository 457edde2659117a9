/**
 * The supervisors' page in a real headless Chromium (Debian's `chromium`, driven by
 * playwright-core), served by the service as `npm start` runs it (its own process, embedded
 * stores in a fresh data folder): a supervisor signs in with a token, a park made through the API
 * appears on the live board, a retrieval clears it, and the audit shows the session's timeline;
 * the CSV export downloads. Screenshots go to test-results/ (not kept in git).
 *
 * Under CI a missing Chromium fails the run (`.ci/run` installs it); elsewhere the suite is
 * skipped with a notice.
 */
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, SIGNALING_TOKEN, SUPERVISOR_TOKEN, defaultTokens, removeDir, startServiceProcess, tempDataDir, type ServiceProcess } from '../support/serviceProcess.js';
import { requireService } from '../support/services.js';

const CONTOSO = 'contoso';
const alice = { userId: 'alice@contoso.com', endpoint: 'teams-desktop' } as const;
const bob = { userId: 'bob@contoso.com', endpoint: 'teams-desktop' } as const;
const carol = { userId: 'carol@contoso.com', endpoint: 'lync-2013' } as const;
const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

const chromiumPath = (): string | undefined => {
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
};

const executablePath = chromiumPath();
const available = await requireService('Chromium', async () => executablePath !== undefined, 'apt-get install chromium (Debian), so that `which chromium` finds it');

const screenshots = join(process.cwd(), 'test-results', 'supervisor');

describe.skipIf(!available)("the supervisors' page in Chromium", () => {
  let dataDir: string;
  let service: ServiceProcess;
  let browser: Browser;
  let page: Page;
  let messages = 0;

  const post = async (path: string, token: string, body: unknown, method = 'POST'): Promise<Record<string, unknown>> => {
    const response = await fetch(`${service.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const answer = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
    return answer;
  };
  const signal = (type: string, fields: Record<string, unknown>) =>
    post('/v1/signaling', SIGNALING_TOKEN, { type, eventId: `browser-${++messages}`, occurredAt: new Date().toISOString(), tenantId: CONTOSO, ...fields });

  beforeAll(async () => {
    await mkdir(screenshots, { recursive: true });
    dataDir = await tempDataDir();
    service = await startServiceProcess({ CALLPARK_DATA_DIR: dataDir, CALLPARK_TOKENS: defaultTokens(CONTOSO), CALLPARK_LONG_WAIT_SECONDS: '90' });
    await post(`/v1/tenants/${CONTOSO}/policies/Global`, ADMIN_TOKEN, { allowCallPark: true, pickupRangeStart: 10, pickupRangeEnd: 29, parkTimeoutSeconds: 120, maxRingBackAttempts: 2 }, 'PATCH');
    browser = await chromium.launch({
      executablePath: executablePath!,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page.on('pageerror', (error) => {
      throw error;
    });
  });

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    if (dataDir) await removeDir(dataDir);
  });

  it('signs in, shows a park as it happens, clears it on retrieval, and finds the session with its timeline', async () => {
    await page.goto(`${service.url}/supervisor`);
    await page.getByLabel('Tenant').fill(CONTOSO);
    await page.getByLabel('Supervisor token').fill(SUPERVISOR_TOKEN);
    await page.getByRole('button', { name: 'Connect' }).click();
    await expect.poll(() => page.locator('#connection').textContent()).toBe(`Live · ${CONTOSO}`);
    expect(await page.locator('#count-free').textContent()).toBe('20');
    expect(await page.locator('#sign-in-form').isVisible()).toBe(false);
    expect(await page.locator('#signed-in').textContent()).toContain(`Signed in to tenant ${CONTOSO}.`);

    // A call parked through the API appears on the board.
    await signal('park.requested', { callId: 'call-browser-1', parker: alice, media: 'audio', caller: '+14255550100' });
    await signal('park.requested', { callId: 'call-browser-2', parker: bob, media: 'audio' });
    const first = page.locator('#orbits tbody tr', { hasText: 'call-browser-1' });
    await first.waitFor();
    expect(await first.getAttribute('data-status')).toBe('parked');
    expect(await first.locator('td').nth(0).locator('span').first().textContent()).toBe('10');
    expect(await first.getAttribute('data-policy')).toBe('Global');
    expect(await first.textContent()).toContain(alice.userId);
    await page.locator('#orbits tbody tr', { hasText: 'call-browser-2' }).waitFor();
    await expect.poll(() => page.locator('#count-parked').textContent()).toBe('2');
    expect(await page.locator('#count-free').textContent()).toBe('18');
    // Time parked ticks.
    const since = await first.locator('[data-since]').textContent();
    await expect.poll(() => first.locator('[data-since]').textContent(), { timeout: 3_000 }).not.toBe(since);
    await page.screenshot({ path: join(screenshots, '1-board-parked.png'), fullPage: true });

    // A retrieval clears it.
    const retrieved = await signal('retrieve.requested', { callId: 'bob-dialog', retriever: { ...bob, endpoint: 'teams-ip-phone' }, orbit: '10' });
    expect(retrieved).toMatchObject({ outcome: 'retrieved' });
    await first.waitFor({ state: 'detached' });
    await expect.poll(() => page.locator('#count-parked').textContent()).toBe('1');
    await page.screenshot({ path: join(screenshots, '2-board-cleared.png'), fullPage: true });

    // The audit finds the session, with its whole timeline.
    await page.getByLabel('Call', { exact: true }).fill('call-browser-1');
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.locator('#sessions tbody tr');
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.textContent()).toContain('Retrieved');
    await row.getByRole('button', { name: /Timeline/ }).click();
    const entries = page.locator('#timeline-entries li');
    await expect.poll(() => entries.count()).toBe(2);
    expect(await entries.nth(0).textContent()).toContain('Parked');
    expect(await entries.nth(1).textContent()).toContain('Retrieved');
    expect(await entries.nth(1).textContent()).toContain('bob-dialog');
    // The timeline takes the focus, for keyboard and screen reader users.
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id)).toBe('timeline-title');
    await page.locator('#audit').screenshot({ path: join(screenshots, '3-audit-timeline.png') });

    // The CSV export downloads what the search finds.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    expect(download.suggestedFilename()).toBe('callpark-sessions-contoso.csv');
    const csv = await (await download.createReadStream()).toArray();
    const text = Buffer.concat(csv as Buffer[]).toString('utf8');
    expect(text.split('\r\n')[0]).toMatch(/^tenant_id,session_id,call_id,/);
    expect(text).toContain('call-browser-1');
    await page.screenshot({ path: join(screenshots, '4-page.png'), fullPage: true });
  });

  it('labels every control, and can be used from the keyboard', async () => {
    const unlabelled = await page.evaluate(() => {
      const doc = (globalThis as unknown as { document: { querySelectorAll(selector: string): ArrayLike<{ id: string; name?: string; closest(selector: string): unknown; getAttribute(name: string): string | null; textContent: string | null }> } }).document;
      return Array.from(doc.querySelectorAll('input, select, button'))
        .filter((control) => control.closest('label') === null && !control.getAttribute('aria-label') && !(control.textContent ?? '').trim())
        .map((control) => control.id || control.name || '?');
    });
    expect(unlabelled).toEqual([]);
    await page.getByLabel('Policy').focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id)).toBe('long-wait');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id)).toBe('show-free');
    await page.keyboard.press('Space');
    await expect.poll(() => page.locator('#orbits tbody tr').count()).toBe(20);
    await page.keyboard.press('Space');
  });

  it('shows the whole tenant grouped by policy, marks long waits and failing ring backs, and acts on a call with who did it', async () => {
    await post(`/v1/tenants/${CONTOSO}/policies`, ADMIN_TOKEN, { identity: 'Sales', allowCallPark: true, pickupRangeStart: 100, pickupRangeEnd: 109, maxRingBackAttempts: 2 });
    await post(`/v1/tenants/${CONTOSO}/grants/${carol.userId}`, ADMIN_TOKEN, { policy: 'Sales' }, 'PUT');
    // A fresh snapshot comes after a policy changes; the page keeps the supervisor's id from signing in.
    await page.evaluate(() => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('callpark.supervisor.userId', 'sam@contoso.com'));
    await page.reload();
    await expect.poll(() => page.locator('#connection').textContent(), { timeout: 10_000 }).toBe(`Live · ${CONTOSO}`);
    await signal('park.requested', { callId: 'call-sales-1', parker: carol, media: 'audio' });
    const sales = page.locator('#orbits tbody tr', { hasText: 'call-sales-1' });
    await sales.waitFor();
    expect(await sales.getAttribute('data-policy')).toBe('Sales');
    // Every policy at once, with its own counts, and the tenant's in total.
    await expect.poll(() => page.locator('#policy-counts tbody tr').count(), { timeout: 10_000 }).toBe(2);
    await expect.poll(() => page.locator('#count-parked').textContent(), { timeout: 10_000 }).toBe('2');
    expect(await page.locator('#policy-counts tbody tr[data-policy="Sales"] td').first().textContent()).toBe('1');
    await page.getByLabel('Policy').selectOption('Sales');
    await expect.poll(() => page.locator('#orbits tbody tr').count(), { timeout: 10_000 }).toBe(1);
    expect(await page.locator('#count-parked').textContent()).toBe('1');
    await page.getByLabel('Policy').selectOption('');

    // Long waits: past the threshold the supervisor sets (kept in the browser), in colour and in the title.
    await page.getByLabel('Long wait after (seconds)').fill('1');
    await page.getByLabel('Long wait after (seconds)').dispatchEvent('change');
    await expect.poll(async () => (await sales.getAttribute('class')) ?? '', { timeout: 10_000 }).toContain('long-wait');
    await expect.poll(() => page.title(), { timeout: 10_000 }).toMatch(/^\(2\) Call park/);
    expect(await page.evaluate(() => (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('callpark.supervisor.longWaitSeconds'))).toBe('1');

    // Ring the parker now; the ring back fails; the page says so.
    // A real pointer click, the first thing after editing the threshold: the press takes the focus from
    // the field, which commits it (a change event) and renders the board between mousedown and mouseup.
    await sales.getByRole('button', { name: /^Ring parker/ }).click();
    await expect.poll(() => page.locator('#action-status').textContent(), { timeout: 10_000 }).not.toBe('');
    expect(await page.locator('#action-status').textContent()).toContain('ringing the parker');
    await expect.poll(() => sales.getAttribute('data-status'), { timeout: 10_000 }).toBe('ringing-back');
    await signal('ringback.failed', { callId: 'call-sales-1', sipStatus: 486 });
    await expect.poll(() => sales.locator('[data-ring-back]').textContent(), { timeout: 10_000 }).toContain('Ring back failing');
    expect(await sales.getAttribute('class')).toContain('failing');
    await page.screenshot({ path: join(screenshots, '5-wallboard-desktop.png'), fullPage: true });

    // Send it to its fallback now: it leaves the board.
    await sales.getByRole('button', { name: /^Send to fallback/ }).click();
    await sales.waitFor({ state: 'detached' });
    await expect.poll(() => page.locator('#action-status').textContent(), { timeout: 10_000 }).toContain('sent to its fallback');

    // From the keyboard: a focused button keeps the focus while the board changes around it, and Enter presses it.
    const other = page.locator('#orbits tbody tr', { hasText: 'call-browser-2' });
    await other.getByRole('button', { name: /^Send to fallback/ }).focus();
    await signal('park.requested', { callId: 'call-browser-3', parker: alice, media: 'audio' });
    await page.locator('#orbits tbody tr', { hasText: 'call-browser-3' }).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { getAttribute(name: string): string | null } | null } }).document.activeElement?.getAttribute('aria-label') ?? 'the focus was lost')).toMatch(/^Send to fallback: the call on 11 \(Global\)/);
    await page.keyboard.press('Enter');
    await other.waitFor({ state: 'detached' });
    await expect.poll(() => page.locator('#action-status').textContent(), { timeout: 10_000 }).toContain('on 11 (Global) sent to its fallback');

    // The audit: the policy, words rather than field names, who acted, and durations.
    await page.getByLabel('Call', { exact: true }).fill('call-sales-1');
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.locator('#sessions tbody tr');
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    expect(await row.textContent()).toContain('Sales');
    await row.getByRole('button', { name: /Timeline/ }).click();
    const timeline = page.locator('#timeline-entries');
    await expect.poll(() => timeline.locator('li').count(), { timeout: 10_000 }).toBe(4);
    // What a person reads: the entries and their labelled facts (the raw fields stay behind "All details").
    const text = (await timeline.locator('li > span, li > dl').allTextContents()).join(' ');
    expect(text).toContain('Rung by supervisor');
    expect(text).toContain('Sent on by supervisor');
    expect(text).toContain('sam@contoso.com');
    expect(text).toContain('Orbit chosen by');
    expect(text).toContain('after the park');
    expect(text).not.toContain('ringBackDueAt');
    expect(await page.locator('#timeline-facts').textContent()).toContain('on policy Sales');
    await page.locator('#audit').screenshot({ path: join(screenshots, '6-audit-supervisor-actions.png') });
  });

  it('fits a 420 px phone screen, has a favicon, and axe-core finds no serious or critical violation', async () => {
    await signal('park.requested', { callId: 'call-phone-1', parker: alice, media: 'audio' });
    const phone = await browser.newPage({ viewport: { width: 420, height: 860 }, bypassCSP: true });
    try {
      await phone.goto(`${service.url}/supervisor`);
      await phone.evaluate(
        ([tenant, token]) => {
          const storage = (globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }).sessionStorage;
          storage.setItem('callpark.supervisor.tenant', tenant!);
          storage.setItem('callpark.supervisor.token', token!);
        },
        [CONTOSO, SUPERVISOR_TOKEN],
      );
      await phone.reload();
      await phone.locator('#orbits tbody tr', { hasText: alice.userId }).first().waitFor();
      const width = await phone.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
      expect(width).toBeLessThanOrEqual(420);
      await phone.screenshot({ path: join(screenshots, '7-wallboard-phone.png'), fullPage: true });

      const icon = await fetch(`${service.url}/supervisor/favicon.svg`);
      expect([icon.status, icon.headers.get('content-type')]).toEqual([200, 'image/svg+xml']);
      expect(await phone.locator('link[rel="icon"]').getAttribute('href')).toBe('/supervisor/favicon.svg');

      await phone.addScriptTag({ path: axePath });
      const results = (await phone.evaluate(async () => {
        const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<unknown> } }).axe;
        return axe.run((globalThis as unknown as { document: unknown }).document, { resultTypes: ['violations'] });
      })) as { violations: { id: string; impact: string; help: string; nodes: unknown[] }[] };
      const serious = results.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
      expect(serious.map((violation) => `${violation.id}: ${violation.help}`)).toEqual([]);
    } finally {
      await phone.close();
    }
  });

  it('says a wrong token is wrong, rather than showing signed in beside disconnected', async () => {
    const other = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      await other.goto(`${service.url}/supervisor`);
      await other.getByLabel('Tenant').fill(CONTOSO);
      await other.getByLabel('Supervisor token').fill('not-a-token-anyone-issued-0123');
      await other.getByRole('button', { name: 'Connect' }).click();
      await other.locator('#sign-in-error').waitFor();
      expect(await other.locator('#sign-in-error').textContent()).toContain('Not signed in: The bearer token is not one this service issued.');
      expect(await other.locator('#signed-in').isVisible()).toBe(false);
      expect(await other.locator('#board').isVisible()).toBe(false);
      expect(await other.locator('#sign-in-form').isVisible()).toBe(true);
      // A supervisor who has set no threshold of their own gets the tenant's (CALLPARK_LONG_WAIT_SECONDS).
      expect(await other.locator('#long-wait').inputValue()).toBe('90');
    } finally {
      await other.close();
    }
  });
});
