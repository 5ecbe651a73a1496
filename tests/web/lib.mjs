// Shared by the browser tests: Chromium with every console error, page
// error, failed request and HTTP >= 400 counted as a problem unless the
// step expects it, axe-core, screenshots at both widths.  The tests are
// run by test-web.sh, which sets URL, TOKEN, OUT, CHROMIUM.
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
export const { URL: BASE, TOKEN, OUT, CHROMIUM } = process.env;

export function check(cond, what) {
  if (!cond) throw new Error(what);
}
export async function api(method, path, body) {
  const r = await fetch(BASE + path, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, json: await r.json().catch(() => null) };
}
// Resolves when fn() is truthy, polled in the page every 50 ms.
export async function until(page, what, fn, arg, timeout = 5000) {
  try {
    return await page.waitForFunction(fn, arg, { timeout, polling: 50 });
  } catch (e) {
    throw new Error(`${what}: not within ${timeout} ms`);
  }
}

// Launches Chromium and opens a page whose problems are collected in
// `problems`; push {status, path} to `expected` before a step that
// should get that status.
export async function openPage() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  const page = await context.newPage();
  const expected = [];
  const problems = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    if (/Failed to load resource: the server responded with a status of (401|403|422)/.test(text) &&
        expected.some((e) => text.includes(String(e.status)))) return;
    problems.push(`console: ${text}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // Cancelled by the page (leaving a job's page ends its log stream) or
    // by the test's own reload and navigation: not a failure of the server.
    if (r.failure()?.errorText === 'net::ERR_ABORTED') return;
    problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() < 400) return;
    const path = new URL(r.url()).pathname;
    const i = expected.findIndex((e) => !e.seen && e.status === r.status() && path === e.path);
    if (i >= 0) expected[i].seen = true;
    else problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  const axe = async (view) => {
    await page.addScriptTag({ path: AXE });
    const res = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
    const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    for (const v of bad)
      problems.push(`axe (${view}): ${v.id} ${v.impact}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
  };
  // Screenshots at 1280 and 390 px, and axe at 390 px (the caller runs it
  // at 1280).
  const shots = async (view) => {
    await page.screenshot({ path: `${OUT}/${view}-1280x800.png` });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(150);
    await page.screenshot({ path: `${OUT}/${view}-390x844.png` });
    await axe(`${view} at 390 px`);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.waitForTimeout(150);
  };
  // Ends the run: an expected status that never came is a problem too.
  const finish = async () => {
    await browser.close();
    for (const e of expected)
      if (!e.seen) problems.push(`expected HTTP ${e.status} on ${e.path} did not happen`);
    if (problems.length) {
      console.log(problems.join('\n'));
      process.exit(1);
    }
  };
  return { browser, page, expected, problems, axe, shots, finish };
}
