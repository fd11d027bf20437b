#!/usr/bin/env node
'use strict';
// drive.js - the browser half of tests/e2e/plugin_ui.sh: drives Debian's headless Chromium
// (/usr/bin/chromium, through playwright-core; no browser is ever downloaded) through the Stash
// double's UI pages (tests/stash-double/ui.js), which load the real plugin/aitag.js, and checks
// what the "Tag with AI" buttons send by reading the double's job list (GET /__test/jobs) and
// request log (GET /__test/log).
//
//   DOUBLE_URL=http://127.0.0.1:PORT node drive.js OUT_DIR
//
// The double must be seeded with scenes 3, 5, 7, 12 and images 4, 9 (plugin_ui.sh does it).
// Prints "ok NAME" or "FAIL: NAME: why" per check and a last line "N passed, N failed"; exits
// 1 when a check failed or the browser could not be driven. Screenshots go to OUT_DIR/*.png.

const fs = require('fs');
const path = require('path');

const CHROMIUM = process.env.AITAG_CHROMIUM || '/usr/bin/chromium';
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const base = process.env.DOUBLE_URL;
const outDir = process.argv[2];
if (!base || !outDir) {
  process.stderr.write('usage: DOUBLE_URL=http://127.0.0.1:PORT node drive.js OUT_DIR\n');
  process.exit(2);
}

let passed = 0;
let failed = 0;
function check(name, cond, why) {
  if (cond) {
    passed++;
    process.stdout.write(`ok ${name}\n`);
  } else {
    failed++;
    process.stdout.write(`FAIL: ${name}${why ? `: ${why}` : ''}\n`);
  }
}
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
function checkEq(name, got, want) {
  check(name, same(got, want), `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

async function ctl(method, p, body) {
  const r = await fetch(base + p, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.status !== 200) throw new Error(`${method} ${p}: HTTP ${r.status}`);
  return r.json();
}
const jobs = () => ctl('GET', '/__test/jobs');
const runTaskRequests = async () => (await ctl('GET', '/__test/log')).filter((e) => e.fields.includes('runPluginTask'));

async function main() {
  let chromium;
  try {
    ({ chromium } = require('playwright-core'));
  } catch (e) {
    throw new Error(`playwright-core is not installed (run scripts/setup.sh): ${e.message}`);
  }
  fs.mkdirSync(outDir, { recursive: true });
  const profile = fs.mkdtempSync(path.join(outDir, 'profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1100, height: 600 },
  });
  const pageErrors = [];
  try {
    context.setDefaultTimeout(10000);
    // Log in: a fresh session cookie, as Stash's login form would set it.
    const { cookie } = await ctl('POST', '/__test/session', {});
    await context.addCookies([{ name: 'session', value: cookie, url: base }]);
    const page = context.pages()[0] || (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
    });
    const shot = (name) => page.screenshot({ path: path.join(outDir, `${name}.png`) });
    const toastAfter = async (n) => {
      // the (n+1)-th toast of this page
      const t = page.locator('.aitag-toasts .aitag-toast').nth(n);
      await t.waitFor();
      return { text: (await t.innerText()).trim(), error: await t.evaluate((e) => e.classList.contains('aitag-toast-error')) };
    };

    // ---- scene page: the button sits in the scene toolbar and queues one job for this scene
    await ctl('DELETE', '/__test/jobs');
    await ctl('DELETE', '/__test/log');
    await page.goto(`${base}/scenes/12`);
    const sceneBtn = page.locator('.scene-toolbar .aitag-button');
    await sceneBtn.waitFor();
    checkEq('scene page: button label', (await sceneBtn.innerText()).trim(), 'Tag with AI');
    check('scene page: button in its own .scene-toolbar-group',
      await sceneBtn.evaluate((b) => b.parentElement.matches('.scene-toolbar > span.scene-toolbar-group.aitag-group')));
    await page.waitForTimeout(300); // let any further re-render settle: still one button
    checkEq('scene page: exactly one button', await page.locator('.aitag-button').count(), 1);
    checkEq('scene page: no job before the click', (await jobs()).length, 0);
    await shot('scene-before');
    await sceneBtn.click();
    let t = await toastAfter(0);
    check('scene page: success toast', /^aitag: job started for scene 12\b/.test(t.text) && !t.error, JSON.stringify(t));
    await shot('scene-toast');
    let j = await jobs();
    checkEq('scene page: exactly one job queued', j.length, 1);
    if (j.length) {
      checkEq('scene page: job plugin_id', j[0].plugin_id, 'aitag');
      checkEq('scene page: job args_map', j[0].args_map, { mode: 'scene', ids: ['12'] });
      checkEq('scene page: no task_name (args used as given)', j[0].task_name, null);
      checkEq('scene page: job description', j[0].description, 'Tag with AI: scene 12');
    }
    let reqs = await runTaskRequests();
    checkEq('scene page: one runPluginTask request', reqs.length, 1);
    if (reqs.length) {
      checkEq('scene page: request authenticated by the session cookie', reqs[0].auth, 'cookie');
      checkEq('scene page: request answered 200', reqs[0].status, 200);
      checkEq('scene page: operation name', reqs[0].operation, 'AitagRunTask');
    }
    check('scene page: button enabled again', await sceneBtn.isEnabled());

    // ---- a slow Stash: the button is disabled while the request runs, so a second click
    // cannot queue the same job twice
    await ctl('DELETE', '/__test/jobs');
    await ctl('POST', '/__test/fault', { delay_ms: 1500, match: 'runPluginTask' });
    await sceneBtn.click();
    check('slow answer: button disabled while waiting', await sceneBtn.isDisabled());
    await sceneBtn.evaluate((b) => b.click()); // a second click on the disabled button
    t = await toastAfter(1);
    check('slow answer: success toast after the delay', /job started for scene 12/.test(t.text) && !t.error, JSON.stringify(t));
    await sceneBtn.waitFor({ state: 'visible' });
    await page.waitForFunction(() => !document.querySelector('.scene-toolbar .aitag-button').disabled);
    checkEq('slow answer: one job for two clicks', (await jobs()).length, 1);

    // ---- image page
    await ctl('DELETE', '/__test/jobs');
    await page.goto(`${base}/images/9`);
    const imageBtn = page.locator('.image-toolbar .aitag-button');
    await imageBtn.waitFor();
    check('image page: button in its own .image-toolbar-group',
      await imageBtn.evaluate((b) => b.parentElement.matches('.image-toolbar > span.image-toolbar-group.aitag-group')));
    await imageBtn.click();
    t = await toastAfter(0);
    check('image page: success toast', /^aitag: job started for image 9\b/.test(t.text) && !t.error, JSON.stringify(t));
    j = await jobs();
    checkEq('image page: one job, mode image, id 9', j.map((x) => [x.plugin_id, x.args_map]), [['aitag', { mode: 'image', ids: ['9'] }]]);
    await shot('image-toast');

    // ---- scene list: the button appears only while cards are selected, and sends their ids
    await ctl('DELETE', '/__test/jobs');
    await page.goto(`${base}/scenes`);
    await page.locator('.scene-card').first().waitFor();
    checkEq('scene list: four cards', await page.locator('.scene-card').count(), 4);
    await page.waitForTimeout(300);
    checkEq('scene list: no button without a selection', await page.locator('.aitag-list-button').count(), 0);
    const sceneCard = (id) => page.locator('.scene-card', { has: page.locator(`a[href^="/scenes/${id}?"]`) });
    await sceneCard(3).locator('input.card-check').check();
    await sceneCard(5).locator('input.card-check').check();
    check('scene list: toolbar has-selection', await page.locator('.filtered-list-toolbar.has-selection').count() === 1);
    checkEq('scene list: selected count', (await page.locator('.filtered-list-toolbar .selected-count').innerText()).trim(), '2');
    const listBtn = page.locator('.filtered-list-toolbar .aitag-list-button');
    await listBtn.waitFor();
    checkEq('scene list: one list button', await page.locator('.aitag-list-button').count(), 1);
    await shot('scene-list-selected');
    await listBtn.click();
    t = await toastAfter(0);
    check('scene list: success toast', /^aitag: job started for 2 scenes\b/.test(t.text) && !t.error, JSON.stringify(t));
    j = await jobs();
    checkEq('scene list: one job with the selected ids', j.map((x) => [x.plugin_id, x.args_map, x.description]),
      [['aitag', { mode: 'scene', ids: ['3', '5'] }, 'Tag with AI: 2 scenes']]);
    await shot('scene-list-toast');
    await page.locator('.selected-items-info button[title="Select None"]').click();
    await page.locator('.aitag-list-button').waitFor({ state: 'detached' });
    check('scene list: button gone after "select none"', (await page.locator('.aitag-list-button').count()) === 0);

    // ---- image list
    await ctl('DELETE', '/__test/jobs');
    await page.goto(`${base}/images`);
    await page.locator('.image-card').first().waitFor();
    await page.locator('.image-card', { has: page.locator('a[href="/images/9"]') }).locator('input.card-check').check();
    await page.locator('.filtered-list-toolbar .aitag-list-button').click();
    t = await toastAfter(0);
    check('image list: success toast', /^aitag: job started for image 9\b/.test(t.text) && !t.error, JSON.stringify(t));
    j = await jobs();
    checkEq('image list: one job, mode image, id 9', j.map((x) => x.args_map), [{ mode: 'image', ids: ['9'] }]);

    // ---- Stash fails the mutation (HTTP 500): an error toast, no job
    await ctl('DELETE', '/__test/jobs');
    await page.goto(`${base}/scenes/12`);
    await sceneBtn.waitFor();
    await ctl('POST', '/__test/fault', { status: 500, match: 'runPluginTask' });
    await sceneBtn.click();
    t = await toastAfter(0);
    check('HTTP 500: error toast', t.error && /^aitag: could not start the job: .*HTTP 500/.test(t.text), JSON.stringify(t));
    await shot('scene-error-500');
    checkEq('HTTP 500: no job', (await jobs()).length, 0);
    check('HTTP 500: button enabled again', await sceneBtn.isEnabled());

    // ---- the session expired (Stash answers 401 with an empty body): an error toast saying so
    const old = await ctl('POST', '/__test/session', { age: 7200 });
    await context.addCookies([{ name: 'session', value: old.cookie, url: base }]);
    await sceneBtn.click();
    t = await toastAfter(1);
    check('HTTP 401: error toast', t.error && /^aitag: could not start the job: .*HTTP 401/.test(t.text), JSON.stringify(t));
    await shot('scene-error-401');
    checkEq('HTTP 401: no job', (await jobs()).length, 0);
    reqs = await runTaskRequests();
    checkEq('HTTP 401: the double saw an expired cookie', reqs.length && reqs[reqs.length - 1].auth, 'cookie-expired');

    check('no script errors in the pages', pageErrors.filter((e) => !/status of (401|500)/.test(e)).length === 0,
      pageErrors.join(' | '));
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main()
  .catch((e) => {
    failed++;
    process.stdout.write(`FAIL: the browser test stopped: ${e.stack || e}\n`);
  })
  .finally(() => {
    process.stdout.write(`${passed} passed, ${failed} failed\n`);
    process.exitCode = failed ? 1 : 0;
  });
