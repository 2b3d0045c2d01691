// The operator's side of the dashboard in Chromium (docs/dashboard.md): the controls on a live call
// (hang up, transfer, message) and the requests they make, the timeline's tool calls, keypad strings
// and call-control steps, the raw event panel (WIRE_EVENTS=1), and the Campaigns page against the
// Twilio REST simulator. Run by
// scripts/browser-test:
//   MB_BINARY=build/app/mediabridge MB_ARTIFACTS=tests/artifacts node --test operator.test.mjs
//
// The event feed goes through the test (page.routeWebSocket): every event the server sends reaches the
// page unchanged, and the test records them, so that it can require the server's own call.control and
// wire events. To check how the page renders peer-controlled text (tool results, keypad strings) the
// test also composes a few events of its own in call/event_json.cpp's shapes, hostile markup included.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, removeDir, startServer, stopServer, tempDir, waitFor, writeMicrophoneWav } from './harness.mjs';

const BINARY = resolve(process.env.MB_BINARY || '../../build/app/mediabridge');
// The Twilio REST simulator of the same build (tools/twilio_rest_sim).
const REST_SIM = resolve(process.env.MB_REST_SIM || join(dirname(BINARY), '../tools/twilio_rest_sim/mediabridge-twilio-rest-sim'));
const ARTIFACTS = resolve(process.env.MB_ARTIFACTS || '../artifacts');
const TOKEN = `mbtest-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
const DESTINATIONS = ['sales', 'support'];

const dir = tempDir('mb-browser-operator-');
let server;
let context;
let page;
let feed = null; // the page's routed /v1/events socket
const fromServer = []; // events the server sent on it
const pageErrors = [];
const cspViolations = [];
const commands = []; // operator requests the page made: {method, path, body, status}

function serverSent(type, predicate = () => true) {
  return fromServer.some((e) => e.type === type && predicate(e));
}

// An event in call/event_json.cpp's shape, composed by the test and sent to the page.
function inject(event) {
  feed.send(JSON.stringify({ time: new Date().toISOString(), ...event }));
}

// The server's own event of `type` (matching `predicate`) must arrive.
async function expectFromServer(type, predicate) {
  await waitFor(`a ${type} event from the server`, () => serverSent(type, predicate), 5000);
}

describe('operator controls, timeline events and raw events in Chromium', { timeout: 150000 }, () => {
  let callSid;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const wav = join(dir, 'microphone.wav');
    writeMicrophoneWav(wav);
    server = await startServer({
      binary: BINARY,
      apiToken: TOKEN,
      dir,
      env: { WIRE_EVENTS: '1', TRANSFER_DESTINATIONS: 'sales=+15551230000,support=sip:desk@pbx.example.com' },
    });
    context = await launchBrowser({ wav, dir });
    page = context.pages()[0] || (await context.newPage());
    page.on('pageerror', (error) => pageErrors.push(String(error && error.stack ? error.stack : error)));
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    page.on('requestfinished', async (request) => {
      const url = new URL(request.url());
      if (!/^\/v1\/calls\/[^/]+\/(hangup|transfer|messages)$/.test(url.pathname)) return;
      const response = await request.response();
      commands.push({ method: request.method(), path: url.pathname, body: request.postData(), status: response && response.status() });
    });
    await page.routeWebSocket(/\/v1\/events(\?|$)/, (ws) => {
      feed = ws;
      const upstream = ws.connectToServer();
      upstream.onMessage((message) => {
        try {
          fromServer.push(JSON.parse(message));
        } catch {
          // not an event: forwarded as it is
        }
        ws.send(message);
      });
    });
  });

  after(async () => {
    if (context) await context.close().catch(() => {});
    await stopServer(server);
    removeDir(dir);
  });

  test('a live call shows the operator controls, with the agent\'s transfer destinations', async () => {
    await page.goto(`${server.url}/`);
    await page.fill('#token', TOKEN);
    await page.click('#signin-button');
    await page.locator('#app').waitFor({ state: 'visible' });
    await waitFor('the live feed', async () => (await page.locator('#feed-status').textContent()) === 'Live', 10000);
    await page.click('#sp-call');
    await waitFor('the softphone to connect', () => page.evaluate(() => window.mbSoftphone.state === 'in-call'), 15000);
    callSid = await page.evaluate(() => window.mbSoftphone.callSid);
    await page.locator(`#call-list .call-item[data-sid="${callSid}"]`).waitFor({ timeout: 10000 });
    const panel = page.locator(`#live-detail .operator[data-sid="${callSid}"]`);
    await panel.waitFor({ timeout: 10000 });
    assert.deepEqual(await panel.locator('select.op-destination option').allTextContents(), DESTINATIONS);
    assert.equal(await panel.locator('select.op-destination').isDisabled(), false);
  });

  test('Send message posts the text; the call.control step appears in the timeline', async () => {
    const panel = page.locator('#live-detail .operator');
    const text = 'The caller is a <b>VIP</b>: offer the upgrade.';
    await panel.locator('input.op-text').fill(text);
    // Typing survives the events that redraw the transcript meanwhile.
    await page.locator('#live-detail .turn.caller').first().waitFor({ timeout: 20000 });
    assert.equal(await panel.locator('input.op-text').inputValue(), text);
    await panel.locator('.op-message button[type="submit"]').click();
    await waitFor('the message request', () => commands.some((c) => c.path.endsWith('/messages')), 5000);
    const request = commands.find((c) => c.path.endsWith('/messages'));
    assert.deepEqual({ ...request, body: JSON.parse(request.body) },
      { method: 'POST', path: `/v1/calls/${callSid}/messages`, body: { text }, status: 202 });
    await waitFor('the input to clear', async () => (await panel.locator('input.op-text').inputValue()) === '', 5000);
    assert.match(await panel.locator('.op-status').textContent(), /Message requested/);
    await expectFromServer('call.control', (e) => e.action === 'message' && e.by === 'operator' && e.status === 'done');
    const marker = page.locator('#live-detail .marker.control').filter({ hasText: 'Message' });
    await marker.first().waitFor({ timeout: 5000 });
    assert.match(await marker.first().textContent(), /Operator: Message/);
  });

  test('Transfer posts the chosen destination; a refusal shows in red', async () => {
    const panel = page.locator('#live-detail .operator');
    await panel.locator('select.op-destination').selectOption('support');
    await panel.locator('.op-transfer button[type="submit"]').click();
    await waitFor('the transfer request', () => commands.some((c) => c.path.endsWith('/transfer')), 5000);
    const request = commands.find((c) => c.path.endsWith('/transfer'));
    assert.deepEqual(JSON.parse(request.body), { destination: 'support' });
    assert.equal(request.status, 202);
    // No Twilio REST credentials here: the transfer is asked for, then fails, and the call goes on.
    await expectFromServer('call.control', (e) => e.action === 'transfer' && e.target === 'support' && e.status === 'failed');
    const marker = page.locator('#live-detail .marker.control').filter({ hasText: 'Operator: Transfer → support' });
    await marker.first().waitFor({ timeout: 5000 });
  });

  test('tool calls, their results and keypad strings read as text in the timeline', async () => {
    // Composed by the test: peer-controlled text (a webhook's error, keypad strings) with markup in it.
    const hostile = '<img src=x id=injected onerror="window.mbInjected=1">';
    for (const event of [
      { type: 'dtmf.input', call_sid: callSid, digits: '4242#', masked: false },
      { type: 'dtmf.input', call_sid: callSid, digits: '••••', masked: true },
      { type: 'tool.call', call_sid: callSid, tool_call_id: 'call_1', name: 'lookup_order', arguments: '{"order":"A-17"}' },
      { type: 'tool.result', call_sid: callSid, tool_call_id: 'call_1', name: 'lookup_order', ok: true, output: '{"status":"shipped"}', latency_ms: 184 },
      { type: 'tool.call', call_sid: callSid, tool_call_id: 'call_2', name: 'refund', arguments: '{}' },
      { type: 'tool.result', call_sid: callSid, tool_call_id: 'call_2', name: 'refund', ok: false, output: '', error: `webhook answered 502 ${hostile}`, latency_ms: 2003 },
    ]) inject(event);
    const ok = page.locator('#live-detail .marker.tool.ok');
    await ok.first().waitFor({ timeout: 5000 });
    assert.match(await ok.first().textContent(), /lookup_order.*ok.*\d+ ms/);
    const failed = page.locator('#live-detail .marker.tool.error').first();
    await failed.waitFor({ timeout: 5000 });
    assert.match(await failed.textContent(), /refund\s*· error: webhook answered 502 <img src=x/);
    assert.equal(await page.locator('#injected').count(), 0, 'peer text is never parsed as HTML');
    assert.equal(await page.evaluate(() => window.mbInjected), undefined);
    assert.match(await page.locator('#live-detail .marker.dtmf-input code.digits').first().textContent(), /^4242#$/);
    assert.match(await page.locator('#live-detail .marker.dtmf-input code.masked').first().textContent(), /^•+$/);
    await page.locator('#live-detail .marker.tool').last().scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, '10-operator-controls.png') });
    // The controls fit a small laptop screen without horizontal scrolling.
    await page.setViewportSize({ width: 1280, height: 720 });
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true);
    assert.equal(await page.locator('#live-detail .operator .op-message button').isVisible(), true);
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  test('the raw event panel appears with the first wire event: direction, type and size only', async () => {
    // WIRE_EVENTS=1: the server publishes the call's wire messages.
    await expectFromServer('wire', (e) => e.call_sid === callSid);
    await page.locator('#live-detail .wire-panel').waitFor({ timeout: 5000 });
    const rows = page.locator('#live-detail .wire-panel .wire-row');
    await waitFor('wire rows', async () => (await rows.count()) >= 4, 5000);
    assert.match(await page.locator('#live-detail .wire-panel summary').textContent(), /Raw events · \d+/);
    assert.match(await rows.first().textContent(), /(Twilio|Agent).*\d+ B$/);
    await page.locator('#live-detail .wire-panel').screenshot({ path: join(ARTIFACTS, '10b-raw-events.png') });
  });

  test('Hang up asks for confirmation, then posts once', async () => {
    const panel = page.locator('#live-detail .operator');
    const button = panel.locator('button.op-hangup');
    await button.click();
    assert.equal(await button.textContent(), 'Hang up the call?');
    assert.equal(commands.filter((c) => c.path.endsWith('/hangup')).length, 0, 'the first click only asks');
    await button.click();
    await waitFor('the hang-up request', () => commands.some((c) => c.path.endsWith('/hangup')), 5000);
    const hangups = commands.filter((c) => c.path.endsWith('/hangup'));
    assert.equal(hangups.length, 1);
    assert.deepEqual([hangups[0].method, hangups[0].status], ['POST', 202]);
    assert.match(server.log, new RegExp(`api: operator hang-up requested for call ${callSid}`));
    await expectFromServer('call.control', (e) => e.action === 'hang_up' && e.by === 'operator');
    await page.locator('#live-detail .marker.control').filter({ hasText: 'Hang-up' }).first().waitFor({ timeout: 5000 });
    // Without Twilio REST credentials the hang-up closes the stream: the server ends the call itself.
    await expectFromServer('call.ended', (e) => e.call_sid === callSid);
    const item = page.locator(`#call-list .call-item[data-sid="${callSid}"]`);
    await waitFor('call.ended', async () => (await item.getAttribute('class')).includes('ended'), 15000);
    assert.equal(await page.locator('#live-detail .operator').count(), 0, 'no controls on an ended call');
  });

  test('no uncaught page errors and no CSP violations', () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(cspViolations, []);
  });
});

// mediabridge-twilio-rest-sim on a free loopback port: it accepts the account's Basic auth, creates
// calls and reports their progress to the server's status callback, signed.
async function startRestSim({ accountSid, authToken }) {
  const child = spawn(REST_SIM, ['--port', '0', '--ringing-after-ms', '400', '--answer-after-ms', '600', '--complete-after-ms', '1500'],
    { env: { ...process.env, TWILIO_ACCOUNT_SID: accountSid, TWILIO_AUTH_TOKEN: authToken }, stdio: ['ignore', 'pipe', 'pipe'] });
  const sim = { child, log: '', exited: false, url: null };
  child.stdout.on('data', (d) => { sim.log += d; });
  child.stderr.on('data', (d) => { sim.log += d; });
  child.on('exit', () => { sim.exited = true; });
  sim.url = await waitFor('the REST simulator to listen', () => {
    if (sim.exited) throw new Error(`mediabridge-twilio-rest-sim exited:\n${sim.log}`);
    const match = /twilio-rest-sim: account \S+ at (http:\/\/127\.0\.0\.1:\d+)/.exec(sim.log);
    return match && match[1];
  }, 10000);
  return sim;
}

async function stopRestSim(sim) {
  if (!sim || sim.exited) return;
  sim.child.kill('SIGTERM');
  const exited = await Promise.race([once(sim.child, 'exit').then(() => true), new Promise((r) => setTimeout(r, 5000, false))]);
  if (!exited) sim.child.kill('SIGKILL');
}

describe('the Campaigns page against the Twilio REST simulator', { timeout: 90000 }, () => {
  const campaignDir = tempDir('mb-browser-campaign-');
  const accountSid = `AC${'0123456789abcdef'.repeat(2)}`;
  const authToken = `rest-${Math.random().toString(36).slice(2)}`;
  const csv = 'number,name\n+15005550101,Ann\nnot-a-number,Bob\n+15005550102,<i>Cy</i>\n+15005550103,Dee\n';
  let restSim;
  let campaignServer;
  let browser;
  let tab;
  const errors = [];

  before(async () => {
    restSim = await startRestSim({ accountSid, authToken });
    campaignServer = await startServer({
      binary: BINARY,
      apiToken: TOKEN,
      dir: campaignDir,
      // PUBLIC_URL: the simulator posts its status callbacks over plain http to this server.
      env: (port) => ({ TWILIO_ACCOUNT_SID: accountSid, TWILIO_AUTH_TOKEN: authToken, TWILIO_API_BASE_URL: restSim.url,
        OUTBOUND_FROM_NUMBER: '+15005550006', PUBLIC_URL: `http://127.0.0.1:${port}` }),
    });
    const wav = join(campaignDir, 'microphone.wav');
    writeMicrophoneWav(wav);
    browser = await launchBrowser({ wav, dir: campaignDir });
    tab = browser.pages()[0] || (await browser.newPage());
    tab.on('pageerror', (error) => errors.push(String(error)));
    await tab.goto(`${campaignServer.url}/`);
    await tab.fill('#token', TOKEN);
    await tab.click('#signin-button');
    await tab.locator('#app').waitFor({ state: 'visible' });
  });

  after(async () => {
    if (browser) await browser.close().catch(() => {});
    await stopServer(campaignServer);
    await stopRestSim(restSim);
    removeDir(campaignDir);
  });

  test('a CSV with a bad row: the row is rejected, the others listed and dialled', async () => {
    await tab.click('#tab-campaigns');
    await tab.locator('#view-campaigns').waitFor({ state: 'visible' });
    assert.deepEqual(await tab.locator('#c-agent option').allTextContents(), ['default (default)']);
    await tab.fill('#c-csv', csv);
    await tab.fill('#c-cps', '2');
    await tab.fill('#c-max', '2');
    const posted = tab.waitForRequest((r) => r.url().endsWith('/v1/campaigns') && r.method() === 'POST');
    await tab.click('#c-start');
    const request = await posted;
    assert.deepEqual(JSON.parse(request.postData()), { agent: 'default', csv, calls_per_second: 2, max_active: 2 });
    const response = await request.response();
    assert.equal(response && response.status(), 201, `${await tab.locator('#c-error').textContent()}\n${campaignServer.log.slice(-3000)}`);
    await tab.locator('#c-rejected').waitFor({ state: 'visible' });
    assert.match(await tab.locator('#c-rejected-title').textContent(), /^1 row was rejected/);
    assert.match(await tab.locator('#c-rejected-list').textContent(), /^line 3 /);

    const rows = tab.locator('#campaign-detail .rows-table tbody tr');
    await waitFor('the three good rows', async () => (await rows.count()) === 3, 5000);
    assert.deepEqual(await tab.locator('#campaign-detail .rows-table td.num').allTextContents(), ['2', '4', '5']);
    assert.equal(await rows.nth(1).locator('td.vars').textContent(), 'name=<i>Cy</i>');
    assert.equal(await tab.locator('#campaign-detail .rows-table i').count(), 0, 'CSV text is never parsed as HTML');
    // Polled while it runs: a row dialled (queued by the simulator's Calls.json), with its call's SID.
    await waitFor('a call under way', async () =>
      (await tab.locator('#campaign-detail td .pill').allTextContents()).some((t) => /queued|ringing|in-progress|completed/.test(t)), 10000, 50);
    await waitFor("the dialled row's call SID", async () =>
      (await tab.locator('#campaign-detail td.sid').allTextContents()).some((sid) => /^CA[0-9a-f]{32}$/i.test(sid)), 5000);
    assert.match(await tab.locator('#campaign-list').textContent(), /running/);
    // The simulator's signed status callbacks move every dialled row to its final status.
    await waitFor('every dialled row completed', async () => {
      const statuses = await tab.locator('#campaign-detail td .pill').allTextContents();
      return statuses.length === 3 && statuses.every((t) => t === 'completed');
    }, 20000);
    await waitFor('the campaign done', async () => (await tab.locator('#campaign-detail .detail-title .pill').textContent()) === 'done', 5000);
    await tab.screenshot({ path: join(ARTIFACTS, '11-campaign.png') });
  });

  test('Cancel stops a running campaign: rows not yet dialled are canceled', async () => {
    const many = `number\n${Array.from({ length: 8 }, (_, i) => `+1500555020${i}`).join('\n')}\n`;
    await tab.fill('#c-csv', many);
    await tab.fill('#c-cps', '1');
    await tab.fill('#c-max', '1');
    await tab.click('#c-start');
    const cancel = tab.locator('#campaign-detail .campaign-cancel');
    await cancel.waitFor({ timeout: 5000 });
    assert.equal(await tab.locator('#c-rejected').isHidden(), true);
    await cancel.click();
    await waitFor('the campaign cancelled', async () => (await tab.locator('#campaign-detail .detail-title .pill').textContent()) === 'cancelled', 10000);
    const statuses = await tab.locator('#campaign-detail td .pill').allTextContents();
    assert.ok(statuses.filter((t) => t === 'canceled').length >= 6, statuses.join(' '));
    assert.deepEqual(errors, []);
  });
});
