// The Providers page and a call's latency waterfall in Chromium (docs/dashboard.md, docs/latency.md),
// against the real server: one with the prober on (PROBE_AGENTS=*, against the demo simulator, an
// alert rule the simulator always crosses), one with it off for the empty state. Run by scripts/browser-test:
//   MB_BINARY=build/app/mediabridge MB_ARTIFACTS=tests/artifacts node --test providers.test.mjs

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, removeDir, startServer, stopServer, tempDir, waitFor, writeMicrophoneWav } from './harness.mjs';

const BINARY = resolve(process.env.MB_BINARY || '../../build/app/mediabridge');
const ARTIFACTS = resolve(process.env.MB_ARTIFACTS || '../artifacts');
const TOKEN = `mbtest-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
// The simulator answers in hundreds of milliseconds: a 1 ms p95 threshold fires on the first run.
const ALERT_RULE = 'first_audio.p95>1';
const P50_COLOR = [79, 70, 229]; // CHART_COLORS.p50 in web/app.js

const dir = tempDir('mb-browser-providers-');
let probing; // the server whose prober runs
let quiet; // the server without probes
let context;
let page;
const pageErrors = [];
const cspViolations = [];

async function probes(server) {
  const response = await fetch(`${server.url}/v1/probes?window=24h`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  assert.equal(response.status, 200, `GET /v1/probes: HTTP ${response.status}`);
  return response.json();
}

async function signIn(server) {
  await page.goto(`${server.url}/`);
  await page.fill('#token', TOKEN);
  await page.click('#signin-button');
  await page.locator('#app').waitFor({ state: 'visible' });
}

// Pixels of a chart's canvas near a series' colour: a chart that drew no data has none.
function colouredPixels(selector, [r, g, b]) {
  return page.evaluate(({ selector, r, g, b }) => {
    const canvas = document.querySelector(selector);
    if (!canvas) return -1;
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 60 && data[i + 3] > 200) count++;
    }
    return count;
  }, { selector, r, g, b });
}

describe('the Providers page and the call waterfall in Chromium', { timeout: 240000 }, () => {
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const wav = join(dir, 'microphone.wav');
    writeMicrophoneWav(wav);
    const ownDir = (name) => {
      mkdirSync(join(dir, name));
      return join(dir, name);
    };
    probing = await startServer({
      binary: BINARY, apiToken: TOKEN, dir: ownDir('probing'),
      env: { PROBE_AGENTS: '*', PROBE_INTERVAL_S: '5', PROBE_ALERTS: ALERT_RULE, PROBE_ALERT_WINDOW_S: '60' },
    });
    quiet = await startServer({ binary: BINARY, apiToken: TOKEN, dir: ownDir('quiet') });
    context = await launchBrowser({ wav, dir });
    page = context.pages()[0] || (await context.newPage());
    page.on('pageerror', (error) => pageErrors.push(String(error && error.stack ? error.stack : error)));
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  });

  after(async () => {
    if (context) await context.close().catch(() => {});
    await stopServer(probing);
    await stopServer(quiet);
    removeDir(dir);
  });

  test('without PROBE_AGENTS the page says how to turn the probes on', async () => {
    const body = await probes(quiet);
    assert.deepEqual([body.runs, body.aggregates, body.alerts], [[], [], []]);
    await signIn(quiet);
    await page.click('#tab-providers');
    const hint = page.locator('#provider-detail .placeholder.probe-empty');
    await hint.waitFor({ timeout: 10000 });
    assert.match(await hint.textContent(), /PROBE_AGENTS/);
    assert.equal(await page.locator('#provider-list .provider-item').count(), 0);
    await page.locator('#alert-list-empty').waitFor({ state: 'visible' });
    await page.screenshot({ path: join(ARTIFACTS, '13b-providers-empty.png') });
  });

  test('with probes: charts with data, the alert, the latest runs', async () => {
    // Two runs and the alert they fire, from the server itself, before the page looks.
    const body = await waitFor('two probe runs and an alert', async () => {
      const b = await probes(probing);
      return b.runs.length >= 2 && b.alerts.length >= 1 ? b : null;
    }, 60000, 500);
    const aggregate = body.aggregates[0];
    assert.ok(aggregate && aggregate.stages.first_audio, `first_audio measured: ${JSON.stringify(aggregate)}`);

    await signIn(probing);
    await page.click('#tab-providers');
    const item = page.locator(`#provider-list .provider-item[data-key="${aggregate.provider}/${aggregate.agent}"]`);
    await item.waitFor({ timeout: 10000 });
    await item.click();
    assert.match(await page.locator('#provider-detail .detail-title h2').textContent(), new RegExp(aggregate.provider));

    // Each chart is a uPlot canvas, and the p50 series left pixels of its colour on the time series
    // and the hour-of-day profile.
    for (const chart of ['probe-series', 'probe-hours', 'probe-errors']) {
      await page.locator(`#provider-detail .${chart} .uplot canvas`).waitFor({ timeout: 5000 });
    }
    const series = await colouredPixels('#provider-detail .probe-series canvas', P50_COLOR);
    const hours = await colouredPixels('#provider-detail .probe-hours canvas', P50_COLOR);
    assert.ok(series > 10, `the time series drew its p50 (${series} pixels)`);
    assert.ok(hours > 20, `the hour-of-day profile drew its p50 (${hours} pixels)`);

    const alert = page.locator('#alert-list .alert-item').first();
    await alert.waitFor();
    assert.match(await alert.locator('.alert-rule').textContent(), /first_audio\.p95>1/);
    assert.equal(await page.locator('#alert-list .alert-item.firing').count() >= 1, true);

    const rows = page.locator('#provider-detail .runs-table tbody tr');
    assert.ok((await rows.count()) >= 2, 'the latest runs are listed');
    assert.match(await rows.first().locator('td.chosen').textContent(), /\d+ ms|\d+\.\d+ s/);

    // Another stage redraws the charts for it.
    await page.selectOption('#p-stage', 'connect');
    await page.locator('#provider-detail .probe-series .uplot canvas').waitFor();
    assert.match(await page.locator('#provider-detail .probe-section-head h3').first().textContent(), /Connect/);
    await page.selectOption('#p-stage', 'first_audio');
    await page.locator('#provider-detail .probe-series .uplot canvas').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, '13-providers.png') });
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(cspViolations, []);
  });

  test("a call's waterfall: one bar group per measured assistant turn, live and in history", async () => {
    await page.click('#tab-live');
    await page.click('#sp-call');
    await waitFor('the softphone to connect', () => page.evaluate(() => window.mbSoftphone.state === 'in-call'), 15000);
    const callSid = await page.evaluate(() => window.mbSoftphone.callSid);
    // The demo agent answers the first utterance (0.6–1.8 s of the microphone's loop) in full.
    await page.locator('#live-detail .waterfall-panel .wf-turn').first().waitFor({ timeout: 30000 });
    await page.click('#sp-hangup');
    await waitFor('call.ended', async () =>
      (await page.locator(`#call-list .call-item[data-sid="${callSid}"]`).getAttribute('class')).includes('ended'), 10000);

    const stored = await (await fetch(`${probing.url}/v1/calls/${callSid}`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json();
    const measured = stored.events.filter((e) => e.type === 'turn.latency');
    assert.ok(measured.length >= 1, 'the call stored its turn.latency events');
    assert.ok(stored.latency && stored.latency.turns === measured.length, `latency summary: ${JSON.stringify(stored.latency)}`);

    await page.click('#tab-history');
    await page.locator(`#history-list .call-item[data-sid="${callSid}"]`).click({ timeout: 10000 });
    const panel = page.locator('#history-detail .waterfall-panel');
    await panel.waitFor({ timeout: 10000 });
    assert.equal(await panel.locator('.wf-turn').count(), measured.length);
    for (let i = 0; i < measured.length; i++) {
      const row = panel.locator('.wf-turn').nth(i);
      assert.equal(await row.getAttribute('data-turn'), String(measured[i].turn));
      assert.equal(await row.locator('.wf-bar.audio').count(), measured[i].to_first_audio_ms === null ? 0 : 1);
    }
    // The summary is the server's: its first-audio p50 and max.
    const firstAudio = panel.locator('.wf-summary tr[data-measure="to_first_audio_ms"] td');
    assert.equal(await firstAudio.nth(0).textContent(), `${Math.round(stored.latency.to_first_audio_ms.p50)} ms`);
    assert.equal(await firstAudio.nth(1).textContent(), `${Math.round(stored.latency.to_first_audio_ms.max)} ms`);
    await page.screenshot({ path: join(ARTIFACTS, '14-call-waterfall.png') });
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(cspViolations, []);
  });
});
