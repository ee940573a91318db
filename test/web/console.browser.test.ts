/**
 * R-LAB-5 in a real browser: Debian's chromium driven by playwright-core against `imsec core
 * --web` in a child process on loopback (every port chosen by the OS, a generated token). A
 * person's path through the console:
 *
 * 1. sign in with the login link the core printed (the token travels in the URL fragment only);
 * 2. register alice from the CLI (`imsec ue register`, TS 33.203 §6–§7): she appears in the
 *    registrations with her implicit set, the P-CSCF SA table gets her four SAs (§7.1), and the
 *    ladder her REGISTER/401/200 with the protected ones inside ESP (SPI and sequence number);
 *    the 401 read whole shows ik/ck as [secret] (TS 24.229 §5.4.1.2.1, §5.2.2.1);
 * 3. provision carol through the page (HSS REST API, K/OPc write-only) and register her; change
 *    and delete bob there;
 * 4. de-register alice: her SAs go (R-SA-7).
 *
 * Screenshots go to a temporary directory (printed); with IMSEC_SCREENSHOT_DOCS=1 the one of
 * step 3 also replaces docs/console.png (README). No page, response or download ever shows a K,
 * OP or OPc.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { needPeer } from '../support/peers.js';
import { cliPath, repoRoot } from '../support/paths.js';
import { startCoreProcess, type CoreProcess } from '../e2e/support/core-process.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// alice: the core's demo subscriber; carol: TS 35.208 test set 2, provisioned through the page.
const ALICE = { impi: 'alice@ims.lab', impu: 'sip:alice@ims.lab', k: '465b5ce8b199b49faa5f0a2ee238a6bc', op: 'cdc202d5123e20f62b6d676ac72cb318' };
const CAROL = { impi: 'carol@ims.lab', impu: 'sip:carol@ims.lab', k: '0396eb317b6d1c36f19c1c84cd6ffd16', opc: '53c15671c60a4b731c55b4a441c0bde2' };
const SECRETS = [ALICE.k, ALICE.op, CAROL.k, CAROL.opc];

/** `imsec ue register …` as a child process; resolves with its exit code and output. */
function ue(core: CoreProcess, who: { impi: string; impu: string; k: string; op?: string; opc?: string }, extra: string[] = []): Promise<{ code: number | null; out: string; err: string }> {
  const keys = who.op !== undefined ? ['--op', who.op] : ['--opc', who.opc!];
  const p = spawn(process.execPath, [cliPath, 'ue', 'register', '--impi', who.impi, '--impu', who.impu, '--k', who.k, ...keys, '--pcscf', `127.0.0.1:${core.pcscfPort}`, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => p.on('exit', (code) => resolve({ code, out, err })));
}

const SA_ROWS = '.sa-table[data-owner="P-CSCF"] tbody tr';

/** What page functions see of the DOM (they run in the page: playwright sends their source, the function form because the console's CSP forbids the eval a string would need). */
type PageDoc = { document: { querySelectorAll(s: string): ArrayLike<{ textContent: string | null }> } };

function noSecret(what: string, text: string): void {
  for (const s of SECRETS) assert.ok(!text.toLowerCase().includes(s), `${what} shows key material`);
}

async function saRows(page: Page, impi: string): Promise<number> {
  return page.locator(`.sa-table[data-owner="P-CSCF"] tbody tr`).filter({ hasText: impi }).count();
}

describe('web console in chromium (playwright-core)', () => {
  test('[R-LAB-5] [R-SA-4] [R-SA-7] [R-REG-2] sign in, watch a CLI registration (registrations, SA table, ladder with ESP), provision and register a subscriber, see the SAs go at de-registration', { timeout: 180_000 }, async (t) => {
    if (!needPeer(t, 'chromium')) return;
    const shots = mkdtempSync(join(tmpdir(), 'imsec-console-shots-'));
    const profile = mkdtempSync(join(tmpdir(), 'imsec-chromium-'));
    process.stderr.write(`console screenshots: ${shots}\n`);
    const core = await startCoreProcess({}, false, 30_000, ['--web', '127.0.0.1:0']);
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1400, height: 1000 } });
    try {
      const ready = core.ready as { web: { url: string; login: string }; token: string; auth: string };
      assert.equal(ready.auth, 'token');
      assert.match(ready.web.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = context.pages()[0] ?? (await context.newPage());
      const bodies: Promise<void>[] = [];
      page.on('response', (r) => {
        if (r.request().resourceType() === 'eventsource') return;
        bodies.push(r.text().then((b) => noSecret(`response ${r.url()}`, b), () => undefined));
      });

      // 0. Without the token the console is not served: the login page comes instead.
      await page.goto(ready.web.url);
      assert.match(page.url(), /\/login$/);
      await page.fill('#token', 'not-the-token-0123456789');
      await page.click('button[type=submit]');
      await page.locator('#login-error').waitFor({ state: 'visible' });

      // 1. The login link signs in (fragment → form → session cookie) and the page goes live.
      await page.goto(ready.web.login);
      await page.waitForURL(ready.web.url);
      await page.locator('#status', { hasText: 'live' }).waitFor();
      const csp = (await page.request.get(ready.web.url)).headers()['content-security-policy'];
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline/);
      assert.equal(await page.locator('#registrations-empty').isVisible(), true);

      // 2. alice registers from the CLI and stays registered.
      const a = await ue(core, ALICE);
      assert.equal(a.code, 0, a.err);
      const aliceRow = page.locator('#registrations tbody tr[data-impi="alice@ims.lab"]');
      await aliceRow.waitFor();
      assert.match(await aliceRow.innerText(), /sip:alice@ims\.lab[\s\S]*tel:\+15550101/, 'the implicit registration set');
      assert.match(await aliceRow.innerText(), /\d+m \d+s/, 'the expiry counts down');
      await page.waitForFunction(([sel, n]) => (globalThis as unknown as PageDoc).document.querySelectorAll(sel).length === n, [SA_ROWS, 4] as const);
      assert.equal(await saRows(page, ALICE.impi), 4);
      // The set turns active when the protected REGISTER's 200 OK goes out; that update can reach
      // the page after the rows themselves (TS 24.229 §5.2.2.1, R-SA-7), so wait for it rather than race it.
      await page.waitForFunction(([sel, n]) => (globalThis as unknown as PageDoc).document.querySelectorAll(sel).length === n, [`${SA_ROWS} td.state-active`, 4] as const);
      const spis = JSON.parse(a.out).sas.map((s: { spi: number }) => `0x${(s.spi >>> 0).toString(16).padStart(8, '0')}`) as string[];
      const table = await page.locator('.sa-table[data-owner="P-CSCF"]').innerText();
      for (const spi of spis) assert.ok(table.includes(spi), `SPI ${spi} in the P-CSCF table`);
      assert.match(table, /active/);
      // The ladder: the REGISTER in the clear, the 401, the protected REGISTER and 200 inside ESP.
      // The last messages of the registration (SAA, then the 200 inside ESP) reach the page last.
      await page.locator('#ladder tbody tr.esp', { hasText: '200 OK (REGISTER)' }).first().waitFor();
      await page.locator('#ladder tbody tr', { hasText: 'SAA' }).first().waitFor();
      const ladder = await page.locator('#ladder tbody').innerText();
      assert.match(ladder, /REGISTER sip:ims\.lab/);
      assert.match(ladder, /401 Unauthorized \(REGISTER\)/);
      assert.match(ladder, /UAR[\s\S]*MAR[\s\S]*MAA[\s\S]*SAR[\s\S]*SAA/);
      const espRow = await page.locator('#ladder tbody tr.esp').first().innerText();
      assert.match(espRow, /⇒[\s\S]*0x[0-9a-f]{8} \/ \d+/, 'SIP inside ESP with its SPI and sequence number');
      // The S-CSCF's 401 read whole: the AKA challenge is there, IK and CK are not.
      await page.selectOption('#filter-leg', 'I-CSCF–S-CSCF');
      const challenge = page.locator('#ladder tbody tr:not([hidden])').filter({ hasText: '401 Unauthorized' }).first();
      await challenge.locator('button').click();
      await page.locator('#message-text', { hasText: 'WWW-Authenticate' }).waitFor();
      const text = await page.locator('#message-text').innerText();
      assert.match(text, /ik="\[secret\]"/);
      assert.match(text, /ck="\[secret\]"/);
      assert.doesNotMatch(text, /ik="[0-9a-f]{32}"/i);
      const legs = await page.locator('#ladder tbody tr:not([hidden])').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-leg')));
      assert.ok(legs.length > 0 && legs.every((l) => l === 'I-CSCF–S-CSCF'), 'the leg filter keeps that leg only');
      await page.selectOption('#filter-leg', '');
      await page.selectOption('#filter-user', 'bob').catch(() => undefined);
      assert.equal(await page.locator('#filter-user option[value="alice"]').count(), 1, 'alice is offered as a user filter');
      await page.screenshot({ path: join(shots, '1-alice-registered.png'), fullPage: true });

      // 3. Provision carol through the page, then register her from the CLI.
      await page.fill('#sub-impi', CAROL.impi);
      await page.fill('#sub-impus', CAROL.impu);
      await page.fill('#sub-k', CAROL.k);
      await page.fill('#sub-opc', CAROL.opc);
      await page.click('#subscriber-submit');
      await page.locator('#subscriber-result', { hasText: 'added carol@ims.lab' }).waitFor();
      await page.locator('#subscribers tbody tr[data-impi="carol@ims.lab"]').waitFor();
      assert.equal(await page.inputValue('#sub-k'), '', 'the form forgets the key once sent');
      // Change bob (his keys kept: the key fields stay empty), then delete him.
      await page.click('button[aria-label="edit bob@ims.lab"]');
      assert.equal(await page.inputValue('#sub-k'), '', 'a key is never shown for editing');
      await page.fill('#sub-amf', '8001');
      await page.click('#subscriber-submit');
      await page.locator('#subscriber-result', { hasText: 'changed bob@ims.lab' }).waitFor();
      await page.locator('#subscribers tbody tr[data-impi="bob@ims.lab"]', { hasText: '8001' }).waitFor();
      page.once('dialog', (dialog) => void dialog.accept());
      await page.click('button[aria-label="delete bob@ims.lab"]');
      await page.locator('#subscriber-result', { hasText: 'deleted bob@ims.lab' }).waitFor();
      await page.locator('#subscribers tbody tr[data-impi="bob@ims.lab"]').waitFor({ state: 'detached' });
      const c = await ue(core, CAROL);
      assert.equal(c.code, 0, c.err);
      await page.locator('#registrations tbody tr[data-impi="carol@ims.lab"]').waitFor();
      await page.waitForFunction(([sel, n]) => (globalThis as unknown as PageDoc).document.querySelectorAll(sel).length === n, [SA_ROWS, 8] as const);
      await page.selectOption('#filter-user', 'carol');
      await page.screenshot({ path: join(shots, '2-carol-provisioned-and-registered.png'), fullPage: true });
      if (process.env.IMSEC_SCREENSHOT_DOCS === '1') {
        await page.click('#detail-close');
        await page.locator('header').scrollIntoViewIfNeeded();
        mkdirSync(join(repoRoot, 'docs'), { recursive: true });
        await page.screenshot({ path: join(repoRoot, 'docs', 'console.png') });
      }
      await page.selectOption('#filter-user', '');

      // 4. alice de-registers (a new UE process registers and de-registers): her SAs go, carol's stay.
      const d = await ue(core, ALICE, ['--deregister']);
      assert.equal(d.code, 0, d.err);
      await page.waitForFunction(([sel, impi]) => Array.from((globalThis as unknown as PageDoc).document.querySelectorAll(sel)).every((r) => !(r.textContent ?? '').includes(impi)), [SA_ROWS, ALICE.impi] as const);
      assert.equal(await saRows(page, ALICE.impi), 0);
      assert.equal(await saRows(page, CAROL.impi), 4);
      assert.match(await page.locator('#ladder tbody').innerText(), /Expires 0: de-registration/);
      await page.screenshot({ path: join(shots, '3-alice-deregistered.png'), fullPage: true });

      // The page itself never showed a key, nor did any response.
      noSecret('the page', await page.content());
      await Promise.all(bodies);
      assert.ok(bodies.length > 5);
      // The ESP keys download is there for this signed-in user.
      const keys = await page.request.get(`${ready.web.url}capture.keys`);
      assert.equal(keys.status(), 200);
      assert.match(await keys.text(), /"IPv4","127\.0\.0\.1","127\.0\.0\.1","0x[0-9a-f]{8}"/);
      const pcap = await page.request.get(`${ready.web.url}capture.pcap`);
      assert.equal((await pcap.body()).readUInt32LE(0), 0xa1b2c3d4, 'a pcap file');
    } finally {
      await context.close();
      const code = await core.stop();
      rmSync(profile, { recursive: true, force: true });
      assert.equal(code, 0, core.stderr());
    }
  });
});
