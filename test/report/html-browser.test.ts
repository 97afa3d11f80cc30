/**
 * The self-contained HTML report in real headless Chromium (Debian's, driven by playwright-core): it renders,
 * loads nothing from anywhere, raises no CSP violation, and hostile values stay text (no script runs).
 * CI installs chromium (.ci/run); elsewhere the test is skipped when no browser is installed.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { ingest } from '../../src/ingest/ingest.js';
import { buildTenantReport } from '../../src/report/tenant-report.js';
import { renderTenantHtml } from '../../src/report/tenant-report-html.js';
import { fixtureFiles, fixtureProfile, openStore, tempDir, writeTraceRow } from '../ingest/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run must install Debian's chromium`);

describe.skipIf(!haveBrowser)('HTML report in headless Chromium', () => {
  it('renders offline, under its CSP, with hostile values inert', async () => {
    const t = tempDir();
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const evil = join(t.dir, 'evil.csv');
      const subject = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> Voicemail';
      writeTraceRow(evil, {
        id: 'a1000001-0000-4000-8000-08dee9000010',
        sender: 'scanner@contoso.com',
        fromIp: '198.51.100.77',
        subject,
      });
      const db = join(t.dir, 'r.db');
      const profile = await fixtureProfile();
      await ingest([...fixtureFiles(), evil], { db, profile });
      const store = openStore(db);
      const report = buildTenantReport(store, { profile });
      store.close();
      const file = join(t.dir, 'report.html');
      writeFileSync(file, renderTenantHtml(report, { limit: 100 }));

      const page = await browser.newPage();
      const requests: string[] = [];
      const problems: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(`file://${file}`);
      expect(await page.title()).toMatch(/dsguard/i);
      const h1 = await page.locator('h1').first().textContent();
      expect(h1).toMatch(/dsguard|Contoso/);
      // The page's own stylesheet applied (allowed by hash): the body has its font.
      expect(await page.evaluate('getComputedStyle(document.body).fontFamily')).toMatch(/system-ui/);
      const bodyText = await page.locator('body').textContent();
      expect(bodyText).toContain('MFP 2nd floor');
      expect(bodyText).toContain('<img src=x onerror="window.__pwned=1">');
      expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(await page.locator('img').count()).toBe(0);
      expect(problems).toEqual([]);
      // The CSP forbids inline script: one injected into the live page does not run.
      // (A string, evaluated in the page: this file is compiled without the DOM library.)
      const injected = await page.evaluate(
        "(() => { const s = document.createElement('script'); s.textContent = 'window.__csp = 1'; document.body.append(s); return window.__csp; })()",
      );
      expect(injected).toBeUndefined();
      expect(problems.every((p) => p.includes('Content Security Policy'))).toBe(true);
      expect(requests).toEqual([`file://${file}`]);
      if (process.env.DSGUARD_SCREENSHOT)
        await page.screenshot({ path: process.env.DSGUARD_SCREENSHOT, fullPage: true });
    } finally {
      await browser.close();
      t.cleanup();
    }
  }, 60_000);
});
