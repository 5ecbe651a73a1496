/* SPDX-License-Identifier: LGPL-2.1-or-later
 * orchestrator dashboard.  Speaks only the public API: REST with the
 * bearer token, /ws/metrics with the token offered as a subprotocol.
 * No framework, no build step: the file is served as it is. */
'use strict';

const $ = (sel, root = document) => root.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/* ---- strings ---- */
let catalogue = { en: {}, es: {} };
let lang = 'en';
function t(key, ...args) {
  let s = catalogue[lang][key] ?? catalogue.en[key] ?? key;
  args.forEach((a, i) => { s = s.replace(`{${i}}`, a); });
  return s;
}
function pickLang() {
  const saved = localStorage.getItem('orch.lang');
  if (saved && catalogue[saved]) return saved;
  /* navigator.languages is what the browser sends as Accept-Language. */
  for (const l of navigator.languages || [navigator.language]) {
    const base = String(l).toLowerCase().split('-')[0];
    if (catalogue[base]) return base;
  }
  return 'en';
}
function translateStatic() {
  document.documentElement.lang = lang;
  document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll('[data-i18n-label]').forEach((el) => el.setAttribute('aria-label', t(el.dataset.i18nLabel)));
  $('#lang').value = lang;
}

/* ---- formatting ---- */
const US = 1e6;
function fmtBytes(b) {
  if (b == null || isNaN(b)) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(b) >= 1024 && i < u.length - 1) { b /= 1024; i++; }
  return `${b.toFixed(i && b < 10 ? 1 : 0)} ${u[i]}`;
}
const fmtPct = (v) => (v == null || isNaN(v) ? '–' : `${v.toFixed(1)} %`);
const fmtRate = (v) => `${fmtBytes(v)}/s`;
function fmtAge(us) {
  if (!us) return '–';
  let s = Math.max(0, Math.floor(Date.now() / 1000 - us / US));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d`;
}
const fmtTime = (us) => (us ? new Date(us / 1000).toLocaleString(lang) : '–');

/* ---- API ---- */
let token = sessionStorage.getItem('orch.token') || '';
class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error;
  }
}
async function api(method, path, body) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  /* A refused token (the shim was given a new one) says so; no token yet
   * is just the login. */
  if (r.status === 401) { showLogin(token ? t('login_needed') : ''); throw new ApiError(401, json); }
  if (!r.ok) throw new ApiError(r.status, json);
  return json;
}

/* ---- state ---- */
const jobs = new Map();        // id -> record
const spark = new Map();       // id -> last cpu figures
const SPARK_N = 40;
const sys = { points: [] };
let range = 300;               // seconds shown on the overview
let ws = null;
let wsRetry = 0;
let view = null;               // the current view's teardown and hooks

function setLive(on) {
  const el = $('#live');
  el.classList.toggle('on', on);
  el.textContent = on ? t('live') : t('offline');
}

function connect() {
  if (ws) return;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/metrics`;
  /* The browser cannot send Authorization on a WebSocket: the token is
   * offered as a subprotocol; the server echoes only orchestrator.v1. */
  const protocols = token ? ['orchestrator.v1', `orchestrator.token.${token}`] : ['orchestrator.v1'];
  ws = new WebSocket(url, protocols);
  ws.onopen = () => {
    /* Frames sent while away are lost: after a reconnect, read the list
     * once more. */
    if (wsOpened) resync();
    wsOpened = true;
    wsRetry = 0;
    setLive(true);
  };
  ws.onmessage = (ev) => ingest(JSON.parse(ev.data));
  ws.onclose = () => {
    ws = null;
    setLive(false);
    if (!token && needToken) return;
    wsRetry = Math.min(wsRetry + 1, 5);
    setTimeout(connect, 500 * wsRetry);
  };
}

let wsOpened = false;
async function resync() {
  try {
    const list = await api('GET', '/jobs/');
    jobs.clear();
    for (const j of list) jobs.set(j.id, j);
    view?.onJob?.(null);
  } catch (e) { /* the next reconnect tries again */ }
}

/* One frame of /ws/metrics. */
function ingest(f) {
  if (f.type === 'system') {
    sys.points.push(f.data);
    const keep = Date.now() * 1000 - 86400 * US;
    while (sys.points.length && sys.points[0].timestamp < keep) sys.points.shift();
    view?.onSystem?.(f.data);
  } else if (f.type === 'job') {
    jobs.set(f.id, Object.assign(jobs.get(f.id) || {}, f.data));
    view?.onJob?.(f.id);
  } else if (f.type === 'job_removed') {
    jobs.delete(f.id);
    spark.delete(f.id);
    view?.onJob?.(f.id);
  } else if (f.type === 'jobs') {
    for (const m of f.data) {
      const rec = jobs.get(m.id);
      if (!rec) continue;
      rec.cpu_percent = m.cpu_percent;
      rec.memory_bytes = m.memory_bytes;
      const s = spark.get(m.id) || [];
      s.push(m.cpu_percent);
      if (s.length > SPARK_N) s.shift();
      spark.set(m.id, s);
    }
    view?.onMetrics?.(f.data);
  } else if (f.type === 'event') {
    view?.onEvent?.(f);
  }
}

/* ---- charts: hand-written SVG (see README: why not a library) ---- */
const H = 140, PAD_L = 52, PAD_B = 16;
/* Drawn at the element's width in pixels: text keeps its shape. */
function chartSvg(series, opts) {
  const W = opts.width;
  const all = series.flatMap((s) => s.points);
  const now = opts.now ?? Date.now() * 1000;
  const t0 = now - opts.span * US;
  let max = opts.max ?? Math.max(1e-9, ...all.map((p) => p[1]));
  if (!opts.max) max *= 1.1;
  const x = (ts) => PAD_L + ((ts - t0) / (now - t0)) * (W - PAD_L - 4);
  const y = (v) => 4 + (1 - v / max) * (H - PAD_B - 8);
  const lines = series.map((s, i) => {
    const pts = s.points.filter((p) => p[0] >= t0).map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
    return `<polyline fill="none" stroke="var(--c${i + 1})" stroke-width="1.5" points="${pts}"/>`;
  }).join('');
  const n = series.reduce((a, s) => a + s.points.filter((p) => p[0] >= t0).length, 0);
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(opts.label)}" data-points="${n}">` +
    `<line class="axis" x1="${PAD_L}" y1="${H - PAD_B}" x2="${W}" y2="${H - PAD_B}"/>` +
    `<line class="axis" x1="${PAD_L}" y1="4" x2="${W}" y2="4" stroke-dasharray="3 3"/>` +
    `<text x="${PAD_L - 4}" y="12" text-anchor="end">${esc(opts.fmt(max))}</text>` +
    `<text x="${PAD_L - 4}" y="${H - PAD_B}" text-anchor="end">0</text>` +
    `<text x="${PAD_L}" y="${H - 3}">-${esc(spanLabel(opts.span))}</text>` +
    `<text x="${W - 2}" y="${H - 3}" text-anchor="end">${esc(t('now'))}</text>` + lines + '</svg>';
}
function spanLabel(s) { return s >= 3600 ? `${+(s / 3600).toFixed(1)}h` : s >= 60 ? `${Math.round(s / 60)}min` : `${s}s`; }
function legend(series) {
  return series.map((s, i) => `<span><i style="background:var(--c${i + 1})"></i>${esc(s.name)}</span>`).join('');
}
function drawChart(el, title, series, opts, elWidth = el.clientWidth) {
  const last = series.map((s) => s.points.at(-1)?.[1]).map((v, i) => (v == null ? '' : `${series[i].name}: ${opts.fmt(v)}`)).filter(Boolean).join(' · ');
  const width = Math.max(200, elWidth - 18);
  el.innerHTML = `<h3>${esc(title)}</h3>` + chartSvg(series, { ...opts, width, label: `${title}. ${last}` }) +
    `<div class="legend">${legend(series)}<span>${esc(last)}</span></div>`;
}
/* Several charts: every width is read before any is drawn, so the page is
 * laid out once, not once per chart (each write would force another). */
function drawCharts(list) {
  const widths = list.map(([el]) => el.clientWidth);
  list.forEach(([el, title, series, opts], i) => drawChart(el, title, series, opts, widths[i]));
}
function sparkSvg(values) {
  if (!values || values.length < 2) return '';
  const max = Math.max(1, ...values);
  const off = SPARK_N - values.length;
  const pts = values.map((v, i) => `${(((off + i) / (SPARK_N - 1)) * 80).toFixed(1)},${(19 - (v / max) * 18).toFixed(1)}`).join(' ');
  return `<svg class="spark" viewBox="0 0 80 20" aria-hidden="true"><polyline points="${pts}"/></svg>`;
}

/* ---- views ---- */
const ROUTES = [
  [/^#\/jobs\/([^/]+)$/, (m) => jobDetail(decodeURIComponent(m[1]))],
  [/^#\/jobs$/, () => jobsView()],
  [/^#\/new$/, () => createView()],
  [/^#\/schedules\/new$/, () => scheduleCreate()],
  [/^#\/schedules\/([^/]+)$/, (m) => scheduleDetail(decodeURIComponent(m[1]))],
  [/^#\/schedules$/, () => schedulesView()],
  [/^#\/groups\/new$/, () => groupCreate()],
  [/^#\/groups\/([^/]+)$/, (m) => groupDetail(decodeURIComponent(m[1]))],
  [/^#\/groups$/, () => groupsView()],
  [/^/, () => overview()],
];
function route() {
  if (!token && needToken) { showLogin(); return; }
  view?.teardown?.();
  view = null;
  const h = location.hash || '#/overview';
  for (const [re, fn] of ROUTES) {
    const m = h.match(re);
    if (m) {
      const nav = ['jobs', 'schedules', 'groups'].find((n) => h.startsWith(`#/${n}`)) ?? (h === '#/new' ? 'new' : 'overview');
      document.querySelectorAll('.top nav a').forEach((a) => a.toggleAttribute('aria-current', a.id === `nav-${nav}`));
      document.querySelectorAll('.top nav a[aria-current]').forEach((a) => a.setAttribute('aria-current', 'page'));
      view = fn(m) || {};
      return;
    }
  }
}

function counts() {
  let running = 0, failed = 0, backend = '–';
  for (const j of jobs.values()) {
    if (j.state === 'running' || j.state === 'starting') running++;
    if (j.state === 'failed') failed++;
    if (j.backend) backend = j.backend;
  }
  return { running, failed, backend, total: jobs.size };
}

function overview() {
  const main = $('#main');
  main.innerHTML = `<h2>${esc(t('overview'))}</h2>
    <div class="cards" id="cards"></div>
    <div class="row" role="group" aria-label="${esc(t('range'))}" style="margin-bottom:8px">
      ${[[300, '5 min'], [3600, '1 h'], [86400, '24 h']].map(([s, l]) =>
        `<button type="button" data-range="${s}" aria-pressed="${s === range}">${l}</button>`).join('')}
    </div>
    <div class="charts">
      <section class="chart" id="ch-cpu"></section><section class="chart" id="ch-mem"></section>
      <section class="chart" id="ch-disk"></section><section class="chart" id="ch-net"></section>
      <section class="chart" id="ch-load"></section><section class="chart" id="ch-psi"></section>
    </div>`;
  let history = [];
  let pending = 0;
  const cards = () => {
    const c = counts();
    $('#cards').innerHTML = [[t('running'), c.running], [t('failed'), c.failed], [t('jobs'), c.total], [t('backend'), c.backend]]
      .map(([k, v]) => `<div class="card">${esc(k)}<b>${esc(v)}</b></div>`).join('');
  };
  const draw = () => {
    pending = 0;
    const since = Date.now() * 1000 - range * US;
    const live = sys.points.filter((p) => p.timestamp > (history.at(-1)?.timestamp ?? 0));
    const rows = history.concat(live).filter((p) => p.timestamp >= since);
    const s = (key, name, f = (v) => v) => ({ name, points: rows.filter((r) => r[key] != null).map((r) => [r.timestamp, f(r[key])]) });
    const o = { span: range };
    drawCharts([
      [$('#ch-cpu'), t('cpu'), [s('cpu_percent', 'CPU')], { ...o, fmt: fmtPct, max: 100 }],
      [$('#ch-mem'), t('memory'), [s('memory_percent', t('used'))], { ...o, fmt: fmtPct, max: 100 }],
      [$('#ch-disk'), t('disk'), [s('disk_used', t('used'))], { ...o, fmt: fmtBytes }],
      [$('#ch-net'), t('network'), [s('net_recv_rate', t('received')), s('net_send_rate', t('sent'))], { ...o, fmt: fmtRate }],
      [$('#ch-load'), t('load'), [s('load_1', '1 min'), s('load_5', '5 min'), s('load_15', '15 min')], { ...o, fmt: (v) => v.toFixed(2) }],
      [$('#ch-psi'), t('pressure'), [s('pressure_cpu', 'CPU'), s('pressure_memory', t('memory')), s('pressure_io', 'IO')], { ...o, fmt: fmtPct }],
    ]);
    cards();
  };
  const schedule = () => { if (!pending) pending = requestAnimationFrame(draw); };
  const load = async () => {
    const step = range <= 300 ? 0 : range <= 3600 ? 10 : 300;
    const since = Math.floor(Date.now() * 1000 - range * US);
    try {
      history = await api('GET', `/metrics/system/history?since=${since}${step ? `&step_s=${step}` : ''}`);
    } catch (e) { history = []; }
    schedule();
  };
  main.querySelectorAll('[data-range]').forEach((b) => b.addEventListener('click', () => {
    range = Number(b.dataset.range);
    main.querySelectorAll('[data-range]').forEach((x) => x.setAttribute('aria-pressed', String(x === b)));
    load();
  }));
  load();
  draw();
  return { onSystem: schedule, onJob: schedule, teardown: () => cancelAnimationFrame(pending) };
}

/* The jobs table renders only the rows in view: 1 000 jobs cost what 30 do. */
const ROW_H = 34;
const COLS = [
  ['name', 'name'], ['state', 'state'], ['pid', 'pid', 'num'], ['cpu_percent', 'cpu', 'num'],
  ['memory_bytes', 'memory', 'num'], ['restarts', 'restarts', 'num'], ['started_at', 'age', 'num'], ['spark', 'cpu_trend'],
];
const renderMs = [];           // the table's script time per render
const tableState = { sort: 'created_at', dir: -1, state: '', text: '' };
function jobsView() {
  const main = $('#main');
  const states = ['', 'starting', 'running', 'stopping', 'exited', 'failed', 'stopped'];
  main.innerHTML = `<h2>${esc(t('jobs'))}</h2>
    <div class="row filters">
      <label for="f-state">${esc(t('state'))}</label>
      <select id="f-state">${states.map((s) => `<option value="${s}">${esc(s ? t(`st_${s}`) : t('all'))}</option>`).join('')}</select>
      <label for="f-text">${esc(t('search'))}</label>
      <input id="f-text" type="search" value="${esc(tableState.text)}">
      <a href="#/new">${esc(t('new_job'))}</a>
      <span id="n-shown" aria-live="polite"></span>
    </div>
    <div class="tbl-wrap" id="tbl-wrap" tabindex="0" role="region" aria-label="${esc(t('jobs'))}">
      <table><thead><tr>${COLS.map(([k, label, cls]) => k === 'spark'
        ? `<th class="col-spark">${esc(t(label))}</th>`
        : `<th class="${cls || ''} col-${label}" aria-sort="${tableState.sort === k ? (tableState.dir > 0 ? 'ascending' : 'descending') : 'none'}"><button type="button" data-sort="${k}">${esc(t(label))}</button></th>`).join('')}</tr></thead>
      <tbody id="rows"></tbody></table>
    </div>`;
  $('#f-state').value = tableState.state;
  let rows = [];
  let pending = 0;
  let dirty = true;
  const filter = () => {
    const text = tableState.text.toLowerCase();
    rows = [...jobs.values()].filter((j) => (!tableState.state || j.state === tableState.state) &&
      (!text || `${j.name} ${j.id} ${(j.command || []).join(' ')}`.toLowerCase().includes(text)));
    const k = tableState.sort, d = tableState.dir;
    rows.sort((a, b) => {
      const x = a[k] ?? '', y = b[k] ?? '';
      return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * d;
    });
    $('#n-shown').textContent = t('n_of', rows.length, jobs.size);
    dirty = false;
  };
  const wrap = $('#tbl-wrap');
  const body = $('#rows');
  const render = () => {
    const t0 = performance.now();
    pending = 0;
    if (dirty) filter();
    const first = Math.max(0, Math.floor(wrap.scrollTop / ROW_H) - 5);
    const count = Math.ceil(wrap.clientHeight / ROW_H) + 10;
    const last = Math.min(rows.length, first + count);
    let html = `<tr class="spacer" aria-hidden="true"><td colspan="8" style="height:${first * ROW_H}px"></td></tr>`;
    for (let i = first; i < last; i++) {
      const j = rows[i];
      const live = j.pid && !['exited', 'failed', 'stopped'].includes(j.state);
      html += `<tr data-id="${esc(j.id)}"><td class="name"><a href="#/jobs/${encodeURIComponent(j.id)}" title="${esc(j.id)}">${esc(j.name || j.id)}</a></td>` +
        `<td><span class="state state-${esc(j.state)}">${esc(t(`st_${j.state}`))}</span></td>` +
        `<td class="num col-pid">${live ? j.pid : '–'}</td><td class="num">${live ? fmtPct(j.cpu_percent) : '–'}</td>` +
        `<td class="num">${live ? fmtBytes(j.memory_bytes) : '–'}</td><td class="num col-restarts">${j.restarts ?? 0}</td>` +
        `<td class="num col-age">${fmtAge(j.started_at || j.created_at)}</td><td class="col-spark">${live ? sparkSvg(spark.get(j.id)) : ''}</td></tr>`;
    }
    html += `<tr class="spacer" aria-hidden="true"><td colspan="8" style="height:${(rows.length - last) * ROW_H}px"></td></tr>`;
    body.innerHTML = html;
    renderMs.push(performance.now() - t0);
    if (renderMs.length > 1000) renderMs.shift();
  };
  const schedule = (refilter) => { if (refilter) dirty = true; if (!pending) pending = requestAnimationFrame(render); };
  wrap.addEventListener('scroll', () => schedule(false), { passive: true });
  $('#f-state').addEventListener('change', (e) => { tableState.state = e.target.value; schedule(true); });
  $('#f-text').addEventListener('input', (e) => { tableState.text = e.target.value; schedule(true); });
  main.querySelectorAll('[data-sort]').forEach((b) => b.addEventListener('click', () => {
    const k = b.dataset.sort;
    tableState.dir = tableState.sort === k ? -tableState.dir : 1;
    tableState.sort = k;
    main.querySelectorAll('thead th[aria-sort]').forEach((th) => th.setAttribute('aria-sort', 'none'));
    b.parentElement.setAttribute('aria-sort', tableState.dir > 0 ? 'ascending' : 'descending');
    schedule(true);
  }));
  const resize = () => schedule(false);
  window.addEventListener('resize', resize);
  render();
  return {
    onJob: () => schedule(true),
    onMetrics: () => schedule(tableState.sort === 'cpu_percent' || tableState.sort === 'memory_bytes'),
    teardown: () => { window.removeEventListener('resize', resize); cancelAnimationFrame(pending); },
    render: () => schedule(true),
  };
}

function confirmDialog(text) {
  const d = $('#confirm');
  $('#confirm-text').textContent = text;
  d.returnValue = '';
  d.showModal();
  return new Promise((resolve) => d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true }));
}

function jobDetail(id) {
  const main = $('#main');
  const stop = new AbortController();
  let hist = [];
  let live = [];
  let pending = 0;
  let follow = null;
  let logText = '';
  main.innerHTML = `<p><a href="#/jobs">← ${esc(t('jobs'))}</a></p><h2 id="d-title">${esc(id)}</h2>
    <div id="d-msg"></div>
    <div class="detail">
      <div>
        <section class="panel"><h3>${esc(t('record'))}</h3><dl class="rec" id="d-rec"></dl>
          <div class="row" style="margin-top:10px">
            <button type="button" id="b-stop" class="danger">${esc(t('stop'))}</button>
            <button type="button" id="b-restart">${esc(t('restart'))}</button>
            <button type="button" id="b-remove" class="danger">${esc(t('remove'))}</button>
          </div></section>
        <section class="panel"><h3>${esc(t('limits'))}</h3><dl class="rec" id="d-limits"></dl></section>
      </div>
      <div>
        <div class="charts"><section class="chart" id="d-cpu"></section><section class="chart" id="d-mem"></section>
          <section class="chart" id="d-io"></section></div>
        <section class="panel" style="margin-top:12px"><h3>${esc(t('log'))}</h3>
          <div class="row">
            <label for="l-stream">${esc(t('stream'))}</label>
            <select id="l-stream"><option value="all">${esc(t('all'))}</option><option value="stdout">stdout</option><option value="stderr">stderr</option></select>
            <label class="check"><input type="checkbox" id="l-follow" checked> ${esc(t('follow'))}</label>
            <label for="l-search">${esc(t('search'))}</label><input id="l-search" type="search">
            <button type="button" id="l-download">${esc(t('download'))}</button>
          </div>
          <pre class="log" id="log" tabindex="0" aria-label="${esc(t('log'))}" aria-live="off"></pre>
        </section>
      </div>
    </div>`;
  const rec = () => {
    const j = jobs.get(id);
    if (!j) return;
    const done = ['exited', 'failed', 'stopped'].includes(j.state);
    $('#d-title').textContent = j.name || id;
    const fields = [['id', j.id], ['state', t(`st_${j.state}`)], ['command', (j.command || []).join(' ')], ['pid', j.pid || '–'],
      ['restarts', j.restarts ?? 0], ['restart_policy', j.restart || '–'], ['exit_code', done ? j.exit_code : '–'], ['signal', j.signal || '–'],
      ['created', fmtTime(j.created_at)], ['started', fmtTime(j.started_at)], ['finished', fmtTime(j.finished_at)],
      ['backend', j.backend], ['unit', j.unit || '–'], ['error', j.error || '–']];
    $('#d-rec').innerHTML = fields.map(([k, v]) => `<dt>${esc(t(k))}</dt><dd${k === 'state' ? ` class="state state-${esc(j.state)}" id="d-state"` : ''}>${esc(v)}</dd>`).join('');
    const lim = [['memory_max', fmtBytes], ['cpu_quota', (v) => `${v} CPU`], ['tasks_max', String], ['stop_timeout_ms', (v) => `${v} ms`],
      ['restart_max', String]]
      .filter(([k]) => j[k] != null).map(([k, f]) => `<dt>${esc(t(k))}</dt><dd>${esc(f(j[k]))}</dd>`).join('');
    $('#d-limits').innerHTML = lim || `<dt>${esc(t('limits'))}</dt><dd>${esc(t('no_limits'))}</dd>`;
    $('#b-stop').disabled = done;
    $('#b-remove').disabled = !done;
  };
  const charts = () => {
    pending = 0;
    const rows = hist.concat(live);
    const s = (k, name) => ({ name, points: rows.filter((r) => r[k] != null).map((r) => [r.timestamp, r[k]]) });
    /* The IO counters as bytes per second between samples; a counter that
     * went down started again with a new run. */
    const rate = (k, name) => {
      const pts = s(k, name).points;
      return { name, points: pts.slice(1).map(([ts, v], i) => [ts, Math.max(0, v - pts[i][1]) / Math.max(1e-3, (ts - pts[i][0]) / US)]) };
    };
    /* From the job's first sample to now. */
    const span = Math.max(60, Math.min(86400, rows.length ? Math.ceil((Date.now() * 1000 - rows[0].timestamp) / US) + 5 : 60));
    drawCharts([
      [$('#d-cpu'), t('cpu'), [s('cpu_percent', 'CPU')], { span, fmt: fmtPct }],
      [$('#d-mem'), t('memory'), [s('memory_bytes', t('used'))], { span, fmt: fmtBytes }],
      [$('#d-io'), t('io'), [rate('io_read_bytes', t('read')), rate('io_write_bytes', t('written'))], { span, fmt: fmtRate }],
    ]);
  };
  const schedule = () => { if (!pending) pending = requestAnimationFrame(charts); };
  const showLog = () => {
    const q = $('#l-search').value;
    const el = $('#log');
    const atEnd = el.scrollTop + el.clientHeight >= el.scrollHeight - 4;
    if (!q) el.textContent = logText;
    else {
      const lines = logText.split('\n').filter((l) => l.toLowerCase().includes(q.toLowerCase()));
      const re = new RegExp(q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi');
      el.innerHTML = lines.map((l) => esc(l).replace(re, (m) => `<mark>${m}</mark>`)).join('\n');
    }
    if (atEnd) el.scrollTop = el.scrollHeight;
  };
  const loadLog = async () => {
    follow?.abort();
    follow = null;
    const stream = $('#l-stream').value;
    let r;
    try {
      r = await api('GET', `/logs/${encodeURIComponent(id)}?stream=${stream}&tail=500`);
    } catch (e) { logText = e.message; showLog(); return; }
    logText = r.text;
    showLog();
    if ($('#l-follow').checked) followLog(stream, r.next_offset);
  };
  const followLog = async (stream, offset) => {
    const ctl = new AbortController();
    follow = ctl;
    try {
      const res = await fetch(`/logs/${encodeURIComponent(id)}?follow=1&stream=${stream}&offset=${offset}`,
        { headers: token ? { Authorization: `Bearer ${token}` } : {}, signal: ctl.signal });
      if (!res.ok) return;
      const reader = res.body.getReader();
      const dec = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        logText += dec.decode(value, { stream: true });
        if (logText.length > 2e6) logText = logText.slice(-1e6);
        showLog();
      }
    } catch (e) { /* aborted: the view or the stream changed */ }
    if (follow === ctl) follow = null;
  };
  const act = async (what, ask, method, path) => {
    if (!(await confirmDialog(ask))) return;
    const msg = $('#d-msg');
    msg.innerHTML = '';
    try {
      await api(method, path);
      if (what === 'remove') { location.hash = '#/jobs'; return; }
      msg.innerHTML = `<p class="msg good" role="status">${esc(t(`done_${what}`))}</p>`;
      if (what === 'restart') loadLog();
    } catch (e) {
      msg.innerHTML = `<p class="msg bad" role="alert">${esc(e.message)}</p>`;
    }
  };
  const eid = encodeURIComponent(id);
  $('#b-stop').addEventListener('click', () => act('stop', t('ask_stop', id), 'DELETE', `/jobs/${eid}`));
  $('#b-restart').addEventListener('click', () => act('restart', t('ask_restart', id), 'POST', `/jobs/${eid}/restart`));
  $('#b-remove').addEventListener('click', () => act('remove', t('ask_remove', id), 'POST', `/jobs/${eid}/remove`));
  $('#l-stream').addEventListener('change', loadLog);
  $('#l-follow').addEventListener('change', loadLog);
  $('#l-search').addEventListener('input', showLog);
  $('#l-download').addEventListener('click', async () => {
    const stream = $('#l-stream').value;
    let text = '';
    try { text = (await api('GET', `/logs/${eid}?stream=${stream}&max_bytes=16777216`)).text; } catch (e) { text = e.message; }
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    a.download = `${id}-${stream}.log`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  });
  (async () => {
    try {
      const j = await api('GET', `/jobs/${eid}`);
      jobs.set(id, j);
      rec();
    } catch (e) {
      $('#d-msg').innerHTML = `<p class="msg bad" role="alert">${esc(e.message)}</p>`;
      return;
    }
    loadLog();
    try {
      const since = Math.floor(Date.now() * 1000 - 86400 * US);
      hist = await api('GET', `/metrics/jobs/${eid}/history?since=${since}`);
    } catch (e) { hist = []; }
    schedule();
  })();
  charts();
  return {
    onJob: (jid) => { if (jid === id) rec(); },
    onMetrics: (rows) => {
      const m = rows.find((r) => r.id === id);
      if (!m) return;
      live.push({ timestamp: Date.now() * 1000, cpu_percent: m.cpu_percent, memory_bytes: m.memory_bytes,
        io_read_bytes: m.io_read_bytes, io_write_bytes: m.io_write_bytes });
      if (live.length > 5000) live.shift();
      schedule();
    },
    teardown: () => { stop.abort(); follow?.abort(); cancelAnimationFrame(pending); },
  };
}

/* Splits a command line into arguments: quotes group, backslash escapes;
 * no expansion of any kind (that is what the shell toggle is for). */
function splitArgs(s) {
  const out = [];
  let cur = null, q = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) {
      if (c === q) q = null;
      else if (c === '\\' && q === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") { q = c; cur = cur ?? ''; }
    else if (c === '\\' && i + 1 < s.length) { cur = (cur ?? '') + s[++i]; }
    else if (/\s/.test(c)) { if (cur !== null) out.push(cur); cur = null; }
    else cur = (cur ?? '') + c;
  }
  if (cur !== null) out.push(cur);
  return out;
}

const SPEC_KEYS = ['command', 'name', 'env', 'cwd', 'restart', 'restart_max', 'restart_delay_ms', 'stop_timeout_ms',
  'memory_max', 'cpu_quota', 'tasks_max', 'stderr'];
/* The field a server error names: spec errors quote the key (a nested
 * one as its path, "template.cwd"), a few name it before a quoted value
 * (metric “foo”); the deny list and a missing executable are about the
 * command.  @keys: the fields the form has. */
function errorField(e, keys = SPEC_KEYS) {
  if (e.code === 'CommandRejected') return 'command';
  const quoted = [...e.message.matchAll(/[“"«]([a-z_.]+)[”"»]/g)].map((m) => m[1].split('.').pop());
  const before = [...e.message.matchAll(/\b([a-z_]+) [“"«]/g)].map((m) => m[1]);
  return quoted.concat(before).find((k) => keys.includes(k)) ?? null;
}
/* Shows a server error under its field, else in @msg. */
function showError(e, keys, msg) {
  const f = errorField(e, keys);
  if (f && $(`#e-${f}`)) {
    $(`#e-${f}`).textContent = e.message;
    $(`#c-${f}`).setAttribute('aria-invalid', 'true');
    $(`#c-${f}`).focus();
  } else {
    msg.innerHTML = `<span class="msg bad" role="alert">${esc(e.message)}</span>`;
  }
}
function clearErrors(form) {
  form.querySelectorAll('.err').forEach((e) => { e.textContent = ''; });
  form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
}
const formField = (key, input, hint = '', full = false) =>
  `<div class="field${full ? ' full' : ''}"><label for="c-${key}">${esc(t(`f_${key}`))}</label>${input}` +
  `${hint ? `<p class="hint" id="h-${key}">${esc(hint)}</p>` : ''}<p class="err" id="e-${key}" role="alert"></p></div>`;
const formInput = (key, type = 'text', extra = '') => `<input id="c-${key}" name="${key}" type="${type}" ${extra} aria-describedby="${key === 'command' ? 'h-command ' : ''}e-${key}">`;
/* The command field, the shell toggle and the preview of what is sent. */
function commandFields() {
  return `${formField('command', formInput('command', 'text', 'required autocomplete="off" spellcheck="false"'), t('hint_command'), true)}
      <div class="full"><label class="check"><input type="checkbox" id="c-shell"> ${esc(t('shell'))}</label>
        <p class="hint" id="c-argv" aria-live="polite"></p></div>`;
}
function commandArgv() {
  const text = $('#c-command').value;
  return $('#c-shell').checked ? ['sh', '-c', text] : splitArgs(text);
}
function wireCommand() {
  const preview = () => { $('#c-argv').textContent = `${t('argv')}: ${JSON.stringify(commandArgv())}`; };
  $('#c-command').addEventListener('input', preview);
  $('#c-shell').addEventListener('change', preview);
  preview();
}
const formNumber = (k) => { const v = $(`#c-${k}`).value; return v === '' ? undefined : Number(v); };

function createView() {
  const main = $('#main');
  const field = formField, inp = formInput;
  main.innerHTML = `<h2>${esc(t('new_job'))}</h2>
    <form class="create" id="create" novalidate>
      ${commandFields()}
      ${field('name', inp('name'))}
      ${field('cwd', inp('cwd', 'text', 'placeholder="/"'))}
      ${field('env', `<textarea id="c-env" rows="3" aria-describedby="h-env e-env" spellcheck="false"></textarea>`, t('hint_env'), true)}
      ${field('restart', `<select id="c-restart" aria-describedby="e-restart"><option value="no">${esc(t('r_no'))}</option><option value="on-failure">${esc(t('r_on_failure'))}</option><option value="always">${esc(t('r_always'))}</option></select>`)}
      ${field('restart_max', inp('restart_max', 'number', 'min="0"'))}
      ${field('memory_max', inp('memory_max', 'number', 'min="1"'), t('hint_mib'))}
      ${field('cpu_quota', inp('cpu_quota', 'number', 'min="0.01" step="0.01"'), t('hint_cores'))}
      ${field('tasks_max', inp('tasks_max', 'number', 'min="1"'))}
      ${field('stop_timeout_ms', inp('stop_timeout_ms', 'number', 'min="1"'))}
      <div class="full row"><button class="primary" type="submit">${esc(t('create'))}</button><span id="c-msg"></span></div>
    </form>`;
  wireCommand();
  const num = formNumber;
  $('#create').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(main);
    $('#c-msg').innerHTML = '';
    const spec = { command: commandArgv() };
    const name = $('#c-name').value.trim();
    if (name) spec.name = name;
    const cwd = $('#c-cwd').value.trim();
    if (cwd) spec.cwd = cwd;
    const env = {};
    for (const line of $('#c-env').value.split('\n')) {
      if (!line.trim()) continue;
      const i = line.indexOf('=');
      env[i < 0 ? line.trim() : line.slice(0, i).trim()] = i < 0 ? '' : line.slice(i + 1);
    }
    if (Object.keys(env).length) spec.env = env;
    spec.restart = $('#c-restart').value;
    for (const k of ['restart_max', 'cpu_quota', 'tasks_max', 'stop_timeout_ms']) if (num(k) !== undefined) spec[k] = num(k);
    if (num('memory_max') !== undefined) spec.memory_max = Math.round(num('memory_max') * 1048576);
    try {
      const j = await api('POST', '/jobs/', spec);
      /* The table hears of the job from the feed, not from this reply. */
      $('#c-msg').innerHTML = `<span class="msg good" role="status">${esc(t('created_job', j.id))}</span>`;
      location.hash = '#/jobs';
    } catch (e) {
      showError(e, SPEC_KEYS, $('#c-msg'));
    }
  });
  return {};
}

/* ---- schedules and groups: lists read from their routes; they have no
 * frames of their own, so a view reads again when a frame says one of
 * its jobs or decisions changed, or when a schedule's next time passes. ---- */
function reloader(load) {
  let timer = 0;
  const again = (ms = 150) => { clearTimeout(timer); timer = setTimeout(load, ms); };
  again.cancel = () => clearTimeout(timer);
  return again;
}
const fmtTrigger = (s) => (s.calendar ? `${t('calendar')}: ${s.calendar}` : s.cron ? `cron: ${s.cron}${s.timezone ? ` (${s.timezone})` : ''}` : t('every_s', s.interval_s));
const fmtResult = (r) => (r ? `<span class="state state-${esc(r)}">${esc(t(`res_${r}`))}</span>` : '–');
function actionBar(items) {
  return items.map(([id, label, cls = '']) => `<button type="button" id="${id}" class="${cls}">${esc(t(label))}</button>`).join(' ');
}
/* Runs a confirmed or plain action and says how it went in @msg. */
async function runAction(msg, ask, fn) {
  if (ask && !(await confirmDialog(ask))) return false;
  msg.innerHTML = '';
  try {
    await fn();
    return true;
  } catch (e) {
    msg.innerHTML = `<p class="msg bad" role="alert">${esc(e.message)}</p>`;
    return false;
  }
}

function schedulesView() {
  const main = $('#main');
  main.innerHTML = `<h2>${esc(t('schedules'))}</h2>
    <div class="row filters"><a href="#/schedules/new">${esc(t('new_schedule'))}</a><span id="s-msg"></span></div>
    <div class="tbl-wrap auto" tabindex="0" role="region" aria-label="${esc(t('schedules'))}">
      <table><thead><tr><th>${esc(t('name'))}</th><th class="col-wide">${esc(t('trigger'))}</th><th>${esc(t('state'))}</th>
        <th class="col-wide">${esc(t('next_run'))}</th><th class="col-age">${esc(t('last_run'))}</th><th class="col-wide">${esc(t('last_result'))}</th>
        <th class="num col-pid">${esc(t('runs'))}</th><th class="num col-restarts">${esc(t('skipped'))}</th><th>${esc(t('actions'))}</th></tr></thead>
      <tbody id="s-rows"></tbody></table></div>`;
  let next = 0;
  let alive = true;
  const draw = (list) => {
    $('#s-rows').innerHTML = list.length ? list.map((s) => `<tr data-id="${esc(s.id)}">
      <td class="name"><a href="#/schedules/${encodeURIComponent(s.id)}" title="${esc(s.id)}">${esc(s.name || s.id)}</a></td>
      <td class="wrap col-wide">${esc(fmtTrigger(s))}</td><td><span class="state sched-${esc(s.state)}">${esc(t(`sst_${s.state}`))}</span></td>
      <td class="col-wide">${esc(fmtTime(s.next_run_at))}</td><td class="col-age">${esc(fmtTime(s.last_run_at))}</td>
      <td class="col-wide" title="${esc(s.last_skip_reason)}">${fmtResult(s.last_result)}</td>
      <td class="num col-pid">${s.runs}</td><td class="num col-restarts" title="${esc(s.last_skip_reason)}">${s.skipped}</td>
      <td><button type="button" data-toggle="${esc(s.state)}" aria-label="${esc(t(s.state === 'paused' ? 'resume' : 'pause'))} ${esc(s.name || s.id)}">${esc(t(s.state === 'paused' ? 'resume' : 'pause'))}</button></td></tr>`).join('')
      : `<tr><td colspan="9">${esc(t('no_schedules'))}</td></tr>`;
  };
  const load = async () => {
    let list;
    try { list = await api('GET', '/schedules/'); } catch (e) { if (alive) $('#s-msg').innerHTML = `<span class="msg bad" role="alert">${esc(e.message)}</span>`; return; }
    if (!alive) return;
    list.sort((a, b) => (a.name || a.id).localeCompare(b.name || b.id));
    draw(list);
    /* Read again just after the nearest next run: its skip has no frame. */
    clearTimeout(next);
    const soon = Math.min(...list.filter((s) => s.next_run_at).map((s) => s.next_run_at));
    if (Number.isFinite(soon)) next = setTimeout(load, Math.min(3600e3, Math.max(500, soon / 1000 - Date.now() + 500)));
  };
  const again = reloader(load);
  $('#s-rows').addEventListener('click', async (ev) => {
    const b = ev.target.closest('[data-toggle]');
    if (!b) return;
    const id = b.closest('tr').dataset.id;
    const what = b.dataset.toggle === 'paused' ? 'resume' : 'pause';
    if (await runAction($('#s-msg'), null, () => api('POST', `/schedules/${encodeURIComponent(id)}/${what}`))) load();
  });
  load();
  return {
    onJob: (id) => { if (!id || jobs.get(id)?.schedule_id) again(); },
    teardown: () => { alive = false; clearTimeout(next); again.cancel(); },
  };
}

function scheduleDetail(id) {
  const main = $('#main');
  const eid = encodeURIComponent(id);
  main.innerHTML = `<h2 id="sd-title">${esc(id)}</h2><div id="sd-msg"></div>
    <div class="row" style="margin-bottom:8px">${actionBar([['sd-toggle', 'pause'], ['sd-trigger', 'run_now'], ['sd-remove', 'remove', 'danger']])}</div>
    <div class="detail"><section class="panel" aria-labelledby="sd-h"><h3 id="sd-h">${esc(t('schedule'))}</h3><dl class="rec" id="sd-rec"></dl></section>
    <section class="panel" aria-labelledby="sd-runs-h"><h3 id="sd-runs-h">${esc(t('run_history'))}</h3>
      <div class="tbl-wrap auto" tabindex="0" role="region" aria-labelledby="sd-runs-h"><table><thead><tr><th>${esc(t('started'))}</th><th>${esc(t('state'))}</th>
      <th class="num">${esc(t('exit_code'))}</th><th class="num">${esc(t('duration'))}</th><th>${esc(t('id'))}</th></tr></thead><tbody id="sd-runs"></tbody></table></div></section></div>`;
  let s = null;
  let alive = true;
  const runs = () => {
    const list = [...jobs.values()].filter((j) => j.schedule_id === id).sort((a, b) => b.created_at - a.created_at).slice(0, 200);
    $('#sd-runs').innerHTML = list.length ? list.map((j) => {
      const done = ['exited', 'failed', 'stopped'].includes(j.state);
      const dur = j.started_at && done ? `${((j.finished_at - j.started_at) / 1e6).toFixed(1)} s` : '–';
      return `<tr><td>${esc(fmtTime(j.started_at || j.created_at))}</td><td><span class="state state-${esc(j.state)}">${esc(t(`st_${j.state}`))}</span></td>
        <td class="num">${done ? esc(j.exit_code) : '–'}</td><td class="num">${dur}</td><td class="name"><a href="#/jobs/${encodeURIComponent(j.id)}">${esc(j.id)}</a></td></tr>`;
    }).join('') : `<tr><td colspan="5">${esc(t('no_runs'))}</td></tr>`;
  };
  const rec = () => {
    $('#sd-title').textContent = s.name || id;
    const fields = [['id', s.id], ['trigger', fmtTrigger(s)], ['state', t(`sst_${s.state}`)], ['next_run', fmtTime(s.next_run_at)],
      ['last_run', fmtTime(s.last_run_at)], ['last_result', s.last_result ? t(`res_${s.last_result}`) : '–'],
      ['last_skip_reason', s.last_skip_reason || '–'], ['runs', s.runs], ['skipped', s.skipped], ['running', s.running],
      ['f_overlap', t(`ov_${s.overlap}`)], ['persistent', t(s.persistent ? 'yes' : 'no')], ['f_timeout_s', s.timeout_s ? `${s.timeout_s} s` : '–'],
      ['command', (s.job?.command || []).join(' ')], ['created', fmtTime(s.created_at)]];
    $('#sd-rec').innerHTML = fields.map(([k, v]) => `<dt>${esc(t(k))}</dt><dd${k === 'state' ? ' id="sd-state"' : ''}>${esc(v)}</dd>`).join('');
    $('#sd-toggle').textContent = t(s.state === 'paused' ? 'resume' : 'pause');
  };
  const load = async () => {
    try { s = await api('GET', `/schedules/${eid}`); } catch (e) { if (alive) $('#sd-msg').innerHTML = `<p class="msg bad" role="alert">${esc(e.message)}</p>`; return; }
    if (!alive) return;
    rec();
    runs();
  };
  const again = reloader(load);
  $('#sd-toggle').addEventListener('click', async () => {
    if (!s) return;
    const what = s.state === 'paused' ? 'resume' : 'pause';
    if (await runAction($('#sd-msg'), null, async () => { s = await api('POST', `/schedules/${eid}/${what}`); })) rec();
  });
  $('#sd-trigger').addEventListener('click', () => runAction($('#sd-msg'), null, () => api('POST', `/schedules/${eid}/trigger`)));
  $('#sd-remove').addEventListener('click', async () => {
    if (await runAction($('#sd-msg'), t('ask_remove_schedule', s?.name || id), () => api('DELETE', `/schedules/${eid}`))) location.hash = '#/schedules';
  });
  load();
  return {
    onJob: (jid) => { if (!jid || jobs.get(jid)?.schedule_id === id) { runs(); again(); } },
    teardown: () => { alive = false; again.cancel(); },
  };
}

const SCHED_KEYS = ['command', 'name', 'calendar', 'cron', 'timezone', 'interval_s', 'overlap', 'timeout_s', 'randomized_delay_s'];
function scheduleCreate() {
  const main = $('#main');
  const opt = (v, label) => `<option value="${v}">${esc(label)}</option>`;
  main.innerHTML = `<h2>${esc(t('new_schedule'))}</h2>
    <form class="create" id="create" novalidate>
      ${formField('name', formInput('name'))}
      ${formField('kind', `<select id="c-kind" aria-describedby="e-kind">${opt('calendar', t('calendar'))}${opt('cron', 'cron')}${opt('interval_s', t('interval'))}</select>`)}
      <div data-kind="calendar">${formField('calendar', formInput('calendar', 'text', 'placeholder="*-*-* 03:00" spellcheck="false"'), t('hint_calendar'))}</div>
      <div data-kind="cron" hidden>${formField('cron', formInput('cron', 'text', 'placeholder="*/5 * * * *" spellcheck="false"'), t('hint_cron'))}</div>
      <div data-kind="cron" hidden>${formField('timezone', formInput('timezone', 'text', 'placeholder="Europe/Madrid"'))}</div>
      <div data-kind="interval_s" hidden>${formField('interval_s', formInput('interval_s', 'number', 'min="1"'))}</div>
      ${formField('overlap', `<select id="c-overlap" aria-describedby="e-overlap">${['skip', 'queue', 'parallel', 'replace'].map((o) => opt(o, t(`ov_${o}`))).join('')}</select>`)}
      ${formField('timeout_s', formInput('timeout_s', 'number', 'min="1"'))}
      ${commandFields()}
      <div class="full row"><button class="primary" type="submit">${esc(t('create'))}</button><span id="c-msg"></span></div>
    </form>`;
  wireCommand();
  const kind = () => $('#c-kind').value;
  $('#c-kind').addEventListener('change', () => main.querySelectorAll('[data-kind]').forEach((d) => { d.hidden = d.dataset.kind !== kind(); }));
  $('#create').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(main);
    $('#c-msg').innerHTML = '';
    const body = { job: { command: commandArgv() }, overlap: $('#c-overlap').value };
    const name = $('#c-name').value.trim();
    if (name) body.name = name;
    if (kind() === 'interval_s') body.interval_s = formNumber('interval_s') ?? 0;
    else body[kind()] = $(`#c-${kind()}`).value.trim();
    if (kind() === 'cron' && $('#c-timezone').value.trim()) body.timezone = $('#c-timezone').value.trim();
    if (formNumber('timeout_s') !== undefined) body.timeout_s = formNumber('timeout_s');
    try {
      const s = await api('POST', '/schedules/', body);
      location.hash = `#/schedules/${encodeURIComponent(s.id)}`;
    } catch (e) { showError(e, SCHED_KEYS, $('#c-msg')); }
  });
  return {};
}

const fmtAutoscale = (a) => (a ? `${a.metric === 'memory_bytes' ? fmtBytes(a.target) : `${a.target} % CPU`} · ${a.min ?? 1}–${a.max}` : t('manual'));
const fmtScale = (d) => (d ? `${d.from} → ${d.to} (${d.reason})` : '–');
function groupsView() {
  const main = $('#main');
  main.innerHTML = `<h2>${esc(t('groups'))}</h2>
    <div class="row filters"><a href="#/groups/new">${esc(t('new_group'))}</a><span id="g-msg"></span></div>
    <div class="tbl-wrap auto" tabindex="0" role="region" aria-label="${esc(t('groups'))}">
      <table><thead><tr><th>${esc(t('name'))}</th><th class="num">${esc(t('desired'))}</th><th class="num">${esc(t('running'))}</th>
        <th class="col-wide">${esc(t('autoscale'))}</th><th class="col-age">${esc(t('last_scale'))}</th><th class="col-spark">${esc(t('command'))}</th></tr></thead>
      <tbody id="g-rows"></tbody></table></div>`;
  const load = async () => {
    let list;
    try { list = await api('GET', '/groups/'); } catch (e) { if (alive) $('#g-msg').innerHTML = `<span class="msg bad" role="alert">${esc(e.message)}</span>`; return; }
    if (!alive) return;
    $('#g-rows').innerHTML = list.length ? list.map((g) => `<tr data-id="${esc(g.id)}">
      <td class="name"><a href="#/groups/${encodeURIComponent(g.id)}" title="${esc(g.id)}">${esc(g.name || g.id)}</a></td>
      <td class="num">${g.desired}</td><td class="num">${g.running}</td><td class="col-wide">${esc(fmtAutoscale(g.autoscale))}</td>
      <td class="col-age">${esc(fmtScale(g.last_scale))}</td><td class="col-spark">${esc((g.template?.command || []).join(' '))}</td></tr>`).join('')
      : `<tr><td colspan="6">${esc(t('no_groups'))}</td></tr>`;
  };
  let alive = true;
  const again = reloader(load);
  load();
  return {
    onJob: (id) => { if (!id || jobs.get(id)?.group_id) again(); },
    onEvent: (f) => { if (f.id?.startsWith('group_')) again(); },
    teardown: () => { alive = false; again.cancel(); },
  };
}

function groupDetail(id) {
  const main = $('#main');
  const eid = encodeURIComponent(id);
  main.innerHTML = `<h2 id="gd-title">${esc(id)}</h2><div id="gd-msg"></div>
    <form class="row" id="gd-scale" style="margin-bottom:8px" novalidate>
      <label for="c-replicas">${esc(t('f_replicas'))}</label><input id="c-replicas" type="number" min="0" style="width:7em" aria-describedby="e-replicas">
      <button type="submit">${esc(t('scale'))}</button> ${actionBar([['gd-remove', 'remove', 'danger']])}
      <p class="err" id="e-replicas" role="alert"></p></form>
    <div class="detail"><section class="panel" aria-labelledby="gd-h"><h3 id="gd-h">${esc(t('group'))}</h3><dl class="rec" id="gd-rec"></dl></section>
    <div><section class="panel" aria-labelledby="gd-rep-h"><h3 id="gd-rep-h">${esc(t('replicas'))}</h3>
      <div class="tbl-wrap auto" tabindex="0" role="region" aria-labelledby="gd-rep-h"><table><thead><tr><th class="num">#</th><th>${esc(t('id'))}</th><th>${esc(t('state'))}</th>
      <th class="num">${esc(t('cpu'))}</th><th class="num">${esc(t('memory'))}</th></tr></thead><tbody id="gd-reps"></tbody></table></div></section>
    <section class="panel" aria-labelledby="gd-dec-h"><h3 id="gd-dec-h">${esc(t('decisions'))}</h3>
      <div class="tbl-wrap auto" tabindex="0" role="region" aria-labelledby="gd-dec-h"><table><thead><tr><th>${esc(t('time'))}</th><th>${esc(t('change'))}</th><th>${esc(t('reason'))}</th>
      <th class="num">${esc(t('average'))}</th></tr></thead><tbody id="gd-dec"></tbody></table></div></section></div></div>`;
  let g = null;
  let scaleEdited = false;
  let alive = true;
  const reps = () => {
    if (!g) return;
    $('#gd-reps').innerHTML = g.replicas.map((jid, i) => {
      const j = jobs.get(jid);
      const live = j?.pid && !['exited', 'failed', 'stopped'].includes(j.state);
      return `<tr><td class="num">${i}</td><td class="name">${jid ? `<a href="#/jobs/${encodeURIComponent(jid)}">${esc(jid)}</a>` : '–'}</td>
        <td>${j ? `<span class="state state-${esc(j.state)}">${esc(t(`st_${j.state}`))}</span>` : '–'}</td>
        <td class="num">${live ? fmtPct(j.cpu_percent) : '–'}</td><td class="num">${live ? fmtBytes(j.memory_bytes) : '–'}</td></tr>`;
    }).join('') || `<tr><td colspan="5">${esc(t('no_replicas'))}</td></tr>`;
  };
  const rec = () => {
    $('#gd-title').textContent = g.name || id;
    const a = g.autoscale;
    const fields = [['id', g.id], ['desired', g.desired], ['running', g.running], ['live_replicas', g.live], ['f_max_unavailable', g.max_unavailable],
      ['generation', g.generation], ['autoscale', fmtAutoscale(a)], ['last_scale', fmtScale(g.last_scale)],
      ['command', (g.template?.command || []).join(' ')], ['created', fmtTime(g.created_at)]];
    $('#gd-rec').innerHTML = fields.map(([k, v]) => `<dt>${esc(t(k))}</dt><dd id="gd-${k}">${esc(v)}</dd>`).join('');
    if (!scaleEdited) $('#c-replicas').value = g.desired;
    reps();
  };
  const decisions = async () => {
    let ev = [];
    try { ev = await api('GET', `/events?job=${eid}&limit=20`); } catch (e) { ev = []; }
    if (!alive) return;
    /* The autoscaler's decisions are events; a Scale by hand is only the
     * record's last_scale. */
    const rows = ev.filter((e) => e.kind === 'scaled').reverse().map((e) => e.data);
    if (!rows.length && g?.last_scale) rows.push(g.last_scale);
    $('#gd-dec').innerHTML = rows.length ? rows.map((d) => `<tr><td>${esc(fmtTime(d.time))}</td><td>${d.from} → ${d.to}</td>
      <td>${esc(d.reason)}</td><td class="num">${d.average == null ? '–' : esc(Number(d.average).toFixed(1))}</td></tr>`).join('')
      : `<tr><td colspan="4">${esc(t('no_decisions'))}</td></tr>`;
  };
  const load = async () => {
    try { g = await api('GET', `/groups/${eid}`); } catch (e) { if (alive) $('#gd-msg').innerHTML = `<p class="msg bad" role="alert">${esc(e.message)}</p>`; return; }
    if (!alive) return;
    rec();
    decisions();
  };
  const again = reloader(load);
  $('#c-replicas').addEventListener('input', () => { scaleEdited = true; });
  $('#gd-scale').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(main);
    try {
      g = await api('POST', `/groups/${eid}/scale`, { replicas: formNumber('replicas') ?? -1 });
      scaleEdited = false;
      rec();
      $('#gd-msg').innerHTML = `<p class="msg good" role="status">${esc(t('scaled_to', g.desired))}</p>`;
    } catch (e) { showError(e, ['replicas'], $('#gd-msg')); }
  });
  $('#gd-remove').addEventListener('click', async () => {
    if (await runAction($('#gd-msg'), t('ask_remove_group', g?.name || id), () => api('DELETE', `/groups/${eid}`))) location.hash = '#/groups';
  });
  load();
  return {
    onJob: (jid) => { if (!jid || jobs.get(jid)?.group_id === id) { reps(); again(); } },
    onMetrics: reps,
    onEvent: (f) => { if (f.id === id) again(); },
    teardown: () => { alive = false; again.cancel(); },
  };
}

const GROUP_KEYS = ['command', 'name', 'replicas', 'max_unavailable', 'metric', 'target', 'min', 'max'];
function groupCreate() {
  const main = $('#main');
  main.innerHTML = `<h2>${esc(t('new_group'))}</h2>
    <form class="create" id="create" novalidate>
      ${commandFields()}
      ${formField('name', formInput('name'))}
      ${formField('replicas', formInput('replicas', 'number', 'min="0" value="1"'))}
      ${formField('max_unavailable', formInput('max_unavailable', 'number', 'min="0"'))}
      <div class="full"><label class="check"><input type="checkbox" id="c-as"> ${esc(t('autoscale_on'))}</label></div>
      <div data-as hidden>${formField('metric', `<select id="c-metric" aria-describedby="e-metric"><option value="cpu_percent">${esc(t('cpu'))} (%)</option><option value="memory_bytes">${esc(t('memory'))} (B)</option></select>`)}</div>
      <div data-as hidden>${formField('target', formInput('target', 'number', 'min="0" step="any"'), t('hint_target'))}</div>
      <div data-as hidden>${formField('min', formInput('min', 'number', 'min="0"'))}</div>
      <div data-as hidden>${formField('max', formInput('max', 'number', 'min="1"'))}</div>
      <div class="full row"><button class="primary" type="submit">${esc(t('create'))}</button><span id="c-msg"></span></div>
    </form>`;
  wireCommand();
  $('#c-as').addEventListener('change', () => main.querySelectorAll('[data-as]').forEach((d) => { d.hidden = !$('#c-as').checked; }));
  $('#create').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(main);
    $('#c-msg').innerHTML = '';
    const body = { template: { command: commandArgv() } };
    const name = $('#c-name').value.trim();
    if (name) body.name = name;
    for (const k of ['replicas', 'max_unavailable']) if (formNumber(k) !== undefined) body[k] = formNumber(k);
    if ($('#c-as').checked) {
      body.autoscale = { metric: $('#c-metric').value };
      for (const k of ['target', 'min', 'max']) if (formNumber(k) !== undefined) body.autoscale[k] = formNumber(k);
    }
    try {
      const g = await api('POST', '/groups/', body);
      location.hash = `#/groups/${encodeURIComponent(g.id)}`;
    } catch (e) { showError(e, GROUP_KEYS, $('#c-msg')); }
  });
  return {};
}

/* ---- login ---- */
let needToken = false;
function showLogin(why) {
  view?.teardown?.();
  view = null;
  needToken = true;
  token = '';
  $('#logout').hidden = true;
  sessionStorage.removeItem('orch.token');
  ws?.close();
  const main = $('#main');
  main.innerHTML = `<form class="login panel" id="login"><h2>${esc(t('log_in'))}</h2>
    <p>${esc(t('login_help'))}</p>
    <div class="field"><label for="token">${esc(t('token'))}</label>
    <input id="token" type="password" autocomplete="current-password" aria-describedby="login-err" required>
    <p class="err" id="login-err" role="alert">${esc(why || '')}</p></div>
    <button class="primary" type="submit">${esc(t('log_in'))}</button></form>`;
  $('#login').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const typed = $('#token').value.trim();
    const r = await fetch('/jobs/?state=running', { headers: { Authorization: `Bearer ${typed}` } });
    if (!r.ok) { $('#login-err').textContent = t('bad_token'); return; }
    token = typed;
    sessionStorage.setItem('orch.token', token);
    needToken = false;
    await start();
  });
  $('#token').focus();
}

/* The first /jobs/, asked while the strings load: a plain fetch, so that
 * a 401 (no token yet) is only read once the strings are there. */
let prefetched = null;
function prefetchJobs() {
  return fetch('/jobs/', { headers: token ? { Authorization: `Bearer ${token}` } : {} })
    .then(async (r) => ({ status: r.status, json: await r.json().catch(() => null) }));
}
async function start() {
  const hadToken = !!token;
  let list;
  try {
    const p = prefetched;
    prefetched = null;
    if (p) {
      const r = await p;
      if (!r.status || r.status >= 400) throw new ApiError(r.status, r.json);
      list = r.json;
    } else {
      list = await api('GET', '/jobs/');
    }
  } catch (e) {
    if (e.status === 401) showLogin(hadToken ? t('login_needed') : '');
    else $('#main').innerHTML = `<p class="msg bad" role="alert">${esc(e.message)}</p>`;
    return;
  }
  jobs.clear();
  for (const j of list) jobs.set(j.id, j);
  $('#logout').hidden = !token;
  connect();
  route();
  if (!performance.getEntriesByName('orch-first-view').length) performance.mark('orch-first-view');
}

async function boot() {
  /* In parallel: the strings (preloaded by index.html) and the list. */
  const strings = fetch('/web/i18n.json').then((r) => r.json());
  prefetched = prefetchJobs();
  prefetched.catch(() => {});
  catalogue = await strings;
  lang = pickLang();
  translateStatic();
  const dark = localStorage.getItem('orch.theme') ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
  document.documentElement.classList.toggle('dark', dark === 'dark');
  $('#theme').setAttribute('aria-pressed', String(dark === 'dark'));
  $('#theme').addEventListener('click', () => {
    const on = document.documentElement.classList.toggle('dark');
    localStorage.setItem('orch.theme', on ? 'dark' : 'light');
    $('#theme').setAttribute('aria-pressed', String(on));
    view?.onSystem?.();
  });
  $('#lang').addEventListener('change', (e) => {
    lang = e.target.value;
    localStorage.setItem('orch.lang', lang);
    translateStatic();
    setLive(!!ws && ws.readyState === 1);
    if (!needToken) route(); else showLogin();
  });
  $('#logout').addEventListener('click', () => showLogin());
  window.addEventListener('hashchange', route);
  setLive(false);
  await start();
}

/* For the browser tests and the curious: the state and the frame path. */
window.orch = { jobs, ingest, sys, renderMs };
boot();
