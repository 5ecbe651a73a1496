// The schedules and groups views driven in Chromium (run by test-web.sh
// with this file as its script): list, create with the server's errors
// under the field, pause/resume, run history, scale, remove; each view
// at both widths, axe-clean, no console error or failed request.
import { BASE, TOKEN, check, api, until, openPage } from './lib.mjs';

const { page, expected, axe, shots, finish } = await openPage();

expected.push({ status: 401, path: '/jobs/' });
await page.goto(`${BASE}/`);
await page.waitForSelector('#token');
await page.fill('#token', TOKEN);
await page.click('#login button[type=submit]');
await page.waitForSelector('#ch-cpu svg');

// ---- schedules: the server's errors under their fields, nothing made ----
await page.click('#nav-schedules');
await until(page, 'the empty schedule list', () => /No schedules/.test(document.querySelector('#s-rows')?.textContent || ''));
await page.click('a[href="#/schedules/new"]');
await page.waitForSelector('#c-calendar');
await page.fill('#c-name', 'every-second');
await page.fill('#c-calendar', 'bogus');
await page.fill('#c-command', 'sleep 2.5');
expected.push({ status: 422, path: '/schedules/' });
await page.click('#create button[type=submit]');
await until(page, 'the calendar error under its field', () =>
  /calendar expression/.test(document.querySelector('#e-calendar')?.textContent || ''));
check(await page.getAttribute('#c-calendar', 'aria-invalid') === 'true', 'the calendar field is not marked invalid');
await axe('schedule new with error');
await shots('schedule-new-error');
await page.selectOption('#c-kind', 'cron');
await page.fill('#c-cron', '* * *');
expected.push({ status: 422, path: '/schedules/' });
await page.click('#create button[type=submit]');
await until(page, 'the cron error under its field', () => /month field/.test(document.querySelector('#e-cron')?.textContent || ''));
await page.selectOption('#c-kind', 'interval_s');
await page.fill('#c-interval_s', '1');
await page.fill('#c-command', 'mkfs.ext4 /dev/null');
expected.push({ status: 403, path: '/schedules/' });
await page.click('#create button[type=submit]');
await until(page, 'the deny rule under the command', () => /mkfs/.test(document.querySelector('#e-command')?.textContent || ''));
check((await api('GET', '/schedules/')).json.length === 0, 'a refused schedule was created');

// ---- an interval of 1 s with runs of 2.5 s: runs, and skips counted ----
await page.fill('#c-command', 'sleep 2.5');
await page.click('#create button[type=submit]');
await until(page, 'the new schedule detail', () => /^#\/schedules\/sched_/.test(location.hash) &&
  document.querySelector('#sd-state')?.textContent === 'active');
const sid = decodeURIComponent((await page.evaluate(() => location.hash)).split('/')[2]);
await until(page, 'a run in the history', () => document.querySelectorAll('#sd-runs a[href^="#/jobs/"]').length >= 1, null, 8000);
await until(page, 'a skip counted in the record', () =>
  Number([...document.querySelectorAll('#sd-rec dt')].find((d) => d.textContent === 'Skipped')?.nextElementSibling.textContent) >= 1,
null, 10000);
await axe('schedule detail');
await shots('schedule-detail');
await page.click('#sd-toggle');
await until(page, 'paused in the detail', () => document.querySelector('#sd-state')?.textContent === 'paused');
check((await api('GET', `/schedules/${sid}`)).json.state === 'paused', 'the daemon does not say paused');
await page.click('#nav-schedules');
await until(page, 'the list shows it paused with Resume', (id) =>
  document.querySelector(`#s-rows tr[data-id="${id}"] [data-toggle]`)?.textContent === 'Resume', sid);
await axe('schedules');
await shots('schedules');
await page.click(`#s-rows tr[data-id="${sid}"] [data-toggle]`);
await until(page, 'resumed from the list', (id) =>
  document.querySelector(`#s-rows tr[data-id="${id}"] [data-toggle]`)?.textContent === 'Pause', sid);
check((await api('GET', `/schedules/${sid}`)).json.state === 'active', 'the daemon does not say active');
await page.click(`#s-rows tr[data-id="${sid}"] a`);
await page.waitForSelector('#sd-rec dt');
await page.click('#sd-remove');
await page.waitForSelector('#confirm[open]');
await page.click('#confirm-ok');
await until(page, 'back at the list without it', (id) =>
  location.hash === '#/schedules' && document.querySelector('#s-rows') && !document.querySelector(`#s-rows tr[data-id="${id}"]`), sid);
check((await api('GET', `/schedules/${sid}`)).status === 404, 'the removed schedule is still there');

// ---- groups ----
await page.click('#nav-groups');
await until(page, 'the empty group list', () => /No groups/.test(document.querySelector('#g-rows')?.textContent || ''));
await page.click('a[href="#/groups/new"]');
await page.waitForSelector('#c-command');
await page.fill('#c-command', 'sleep 600');
await page.fill('#c-name', 'web-group');
await page.fill('#c-replicas', '-1');
expected.push({ status: 422, path: '/groups/' });
await page.click('#create button[type=submit]');
await until(page, 'the replicas error under its field', () => /replicas/.test(document.querySelector('#e-replicas')?.textContent || ''));
check(await page.getAttribute('#c-replicas', 'aria-invalid') === 'true', 'the replicas field is not marked invalid');
await page.fill('#c-replicas', '2');
await page.check('#c-as');
await page.fill('#c-target', '50');
expected.push({ status: 422, path: '/groups/' });
await page.click('#create button[type=submit]');
await until(page, 'the autoscale error under a field it names', () => /required/.test(document.querySelector('#e-target')?.textContent || ''));
await axe('group new with error');
await shots('group-new-error');
check((await api('GET', '/groups/')).json.length === 0, 'a refused group was created');
await page.uncheck('#c-as');
await page.click('#create button[type=submit]');
await until(page, 'two replicas running in the detail', () => /^#\/groups\/group_/.test(location.hash) &&
  document.querySelectorAll('#gd-reps .state-running').length === 2, null, 8000);
const gid = decodeURIComponent((await page.evaluate(() => location.hash)).split('/')[2]);
await page.fill('#c-replicas', '3');
await page.click('#gd-scale button[type=submit]');
await until(page, 'three replicas running after Scale', () => document.querySelectorAll('#gd-reps .state-running').length === 3, null, 8000);
check((await api('GET', `/groups/${gid}`)).json.desired === 3, 'the daemon does not want 3 replicas');
await until(page, 'the decision shows', () => /2 → 3/.test(document.querySelector('#gd-dec')?.textContent || ''));
await axe('group detail');
await shots('group-detail');
await page.click('#nav-groups');
await until(page, 'the list shows 3 desired', (id) =>
  document.querySelector(`#g-rows tr[data-id="${id}"] td.num`)?.textContent === '3', gid);
await axe('groups');
await shots('groups');
await page.selectOption('#lang', 'es');
await page.click('#theme');
await until(page, 'Spanish group list', () => document.querySelector('#nav-groups').textContent === 'Grupos' &&
  document.querySelector('#g-rows tr[data-id]'));
await axe('groups, dark, Spanish');
await shots('groups-dark-es');
await page.click('#theme');
await page.selectOption('#lang', 'en');
await page.click(`#g-rows tr[data-id="${gid}"] a`);
await page.waitForSelector('#gd-rec dt');
const replicas = (await api('GET', `/groups/${gid}`)).json.replicas;
await page.click('#gd-remove');
await page.waitForSelector('#confirm[open]');
await page.click('#confirm-ok');
await until(page, 'back at the group list without it', (id) =>
  location.hash === '#/groups' && document.querySelector('#g-rows') && !document.querySelector(`#g-rows tr[data-id="${id}"]`), gid);
check((await api('GET', `/groups/${gid}`)).status === 404, 'the removed group is still there');
for (const jid of replicas) {
  const deadline = Date.now() + 10000;
  let state;
  while (Date.now() < deadline && !['stopped', 'exited', 'failed'].includes(state = (await api('GET', `/jobs/${jid}`)).json?.state))
    await new Promise((r) => setTimeout(r, 100));
  check(['stopped', 'exited', 'failed'].includes(state), `replica ${jid} is ${state} after the group was removed`);
}

await finish();
