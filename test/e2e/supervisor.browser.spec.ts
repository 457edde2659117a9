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
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, SIGNALING_TOKEN, SUPERVISOR_TOKEN, defaultTokens, removeDir, startServiceProcess, tempDataDir, type ServiceProcess } from '../support/serviceProcess.js';
import { requireService } from '../support/services.js';

const CONTOSO = 'contoso';
const alice = { userId: 'alice@contoso.com', endpoint: 'teams-desktop' } as const;
const bob = { userId: 'bob@contoso.com', endpoint: 'teams-desktop' } as const;

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
    service = await startServiceProcess({ CALLPARK_DATA_DIR: dataDir, CALLPARK_TOKENS: defaultTokens(CONTOSO) });
    await post(`/v1/tenants/${CONTOSO}/policies/Global`, ADMIN_TOKEN, { allowCallPark: true, pickupRangeStart: 10, pickupRangeEnd: 29, parkTimeoutSeconds: 120 }, 'PATCH');
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
    expect(await first.locator('td').nth(0).textContent()).toBe('10');
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
    await page.getByLabel('Call').fill('call-browser-1');
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
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id)).toBe('show-free');
    await page.keyboard.press('Space');
    await expect.poll(() => page.locator('#orbits tbody tr').count()).toBe(20);
  });
});
