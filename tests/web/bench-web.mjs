// The dashboard's figures in Chromium (run by tests/bench/bench-web.sh,
// which starts the daemon and the shim without a token and sets URL,
// CHROMIUM, RUNS): page weight, first view, and the jobs table's frame
// time while scrolling with 30 jobs (the peer) and with 1 000, RUNS times
// each; prints one JSON document with each run and the medians.  With
// PEER_URL (a shim serving another data/web, e.g. main's), the first view
// of that page is measured in the same runs, alternating, as its peer.
import { chromium } from 'playwright-core';

const { URL: BASE, CHROMIUM, PEER_URL } = process.env;
const RUNS = Number(process.env.RUNS || 3);
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });

async function table(page, n) {
  await page.goto(`${BASE}/#/jobs`);
  await page.waitForSelector('#rows');
  return page.evaluate(async (n) => {
    const now = Date.now() * 1000;
    for (let i = 0; i < n; i++)
      window.orch.ingest({ type: 'job', id: `synthetic-${i}`, data: { id: `synthetic-${i}`, name: `synthetic ${i}`,
        state: 'running', pid: 100000 + i, restarts: 0, created_at: now - i * 1e6, started_at: now - i * 1e6, command: ['sleep', '1'] } });
    const metrics = () => window.orch.ingest({ type: 'jobs', data: Array.from({ length: n }, (_, i) =>
      ({ id: `synthetic-${i}`, pid: 100000 + i, cpu_percent: Math.random() * 100, memory_bytes: i * 409600 })) });
    for (let i = 0; i < 40; i++) metrics();
    const wrap = document.querySelector('#tbl-wrap');
    const times = [];
    window.orch.renderMs.length = 0;
    await new Promise((resolve) => {
      let k = 0, last = performance.now();
      const step = (ts) => {
        times.push(ts - last);
        last = ts;
        wrap.scrollTop = (wrap.scrollTop + 97) % Math.max(1, wrap.scrollHeight - wrap.clientHeight);
        if (k % 10 === 0) metrics();   // the feed's frame, once a second at 10 fps scrolled
        if (++k < 300) requestAnimationFrame(step); else resolve();
      };
      requestAnimationFrame(step);
    });
    times.shift();
    const s = [...times].sort((a, b) => a - b);
    const r = [...window.orch.renderMs].sort((a, b) => a - b);
    return { jobs: n, frames: s.length, frame_ms_median: s[s.length >> 1], frame_ms_p95: s[Math.floor(s.length * 0.95)],
      render_script_ms_median: r[r.length >> 1], render_script_ms_p95: r[Math.floor(r.length * 0.95)],
      rows_in_dom: document.querySelectorAll('#rows tr[data-id]').length };
  }, n);
}

// The first view of @url in a fresh context: its time, the layouts and
// main-thread time until then (Chromium's own counters), and the weight.
async function firstView(url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  await page.goto(`${url}/`);
  await page.waitForFunction(() => performance.getEntriesByName('orch-first-view').length);
  const m = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((x) => [x.name, x.value]));
  await page.waitForSelector('#ch-cpu svg');
  const load = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const assets = performance.getEntriesByType('resource').filter((r) => r.name.includes('/web/'));
    return { first_view_ms: performance.getEntriesByName('orch-first-view')[0].startTime,
      page_bytes: nav.transferSize + assets.reduce((a, r) => a + r.transferSize, 0) };
  });
  Object.assign(load, { layouts: m.LayoutCount, layout_ms: m.LayoutDuration * 1000, task_ms: m.TaskDuration * 1000 });
  return { page, context, load };
}

const runs = [];
for (let i = 0; i < RUNS; i++) {
  const peerView = PEER_URL ? await firstView(PEER_URL) : null;
  if (peerView) await peerView.context.close();
  const { page, context, load } = await firstView(BASE);
  const peer = await table(page, 30);
  await context.close();
  const c2 = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const p2 = await c2.newPage();
  const big = await table(p2, 1000);
  await c2.close();
  runs.push({ ...load, table_30: peer, table_1000: big, ...(peerView ? { peer_first_view: peerView.load } : {}) });
}
await browser.close();
const m = (f) => median(runs.map(f));
console.log(JSON.stringify({
  tool: `Chromium ${browser.version()} headless via playwright-core, ${RUNS} runs, loopback`,
  median: {
    page_bytes: m((r) => r.page_bytes), first_view_ms: m((r) => r.first_view_ms),
    first_view_layouts: m((r) => r.layouts), first_view_layout_ms: m((r) => r.layout_ms), first_view_task_ms: m((r) => r.task_ms),
    ...(PEER_URL ? { peer_first_view_ms: m((r) => r.peer_first_view.first_view_ms), peer_first_view_layouts: m((r) => r.peer_first_view.layouts),
      peer_first_view_layout_ms: m((r) => r.peer_first_view.layout_ms), peer_first_view_task_ms: m((r) => r.peer_first_view.task_ms) } : {}),
    table_30_frame_ms: m((r) => r.table_30.frame_ms_median), table_1000_frame_ms: m((r) => r.table_1000.frame_ms_median),
    table_30_frame_ms_p95: m((r) => r.table_30.frame_ms_p95), table_1000_frame_ms_p95: m((r) => r.table_1000.frame_ms_p95),
    table_30_render_ms: m((r) => r.table_30.render_script_ms_median), table_1000_render_ms: m((r) => r.table_1000.render_script_ms_median),
  },
  runs,
}));
