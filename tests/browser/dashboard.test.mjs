// The dashboard and the browser softphone in a real browser (docs/dashboard.md): Debian's Chromium,
// driven by playwright-core, against the built mediabridge in demo mode. Run by scripts/browser-test:
//   MB_BINARY=build/app/mediabridge MB_ARTIFACTS=tests/artifacts node --test dashboard.test.mjs
// Screenshots go to MB_ARTIFACTS (look at them: they are what a person sees).

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, removeDir, startServer, stopServer, tempDir, waitFor, writeMicrophoneWav } from './harness.mjs';

const BINARY = resolve(process.env.MB_BINARY || '../../build/app/mediabridge');
const ARTIFACTS = resolve(process.env.MB_ARTIFACTS || '../artifacts');
const TOKEN = `mbtest-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;

const dir = tempDir('mb-browser-');
let server;
let context;
let page;
const pageErrors = [];
const cspViolations = [];
const requestedUrls = [];

async function screenshot(name) {
  const path = join(ARTIFACTS, name);
  await page.screenshot({ path });
  return path;
}

describe('dashboard and softphone in Chromium', { timeout: 180000 }, () => {
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const wav = join(dir, 'microphone.wav');
    writeMicrophoneWav(wav);
    server = await startServer({ binary: BINARY, apiToken: TOKEN, dir });
    context = await launchBrowser({ wav, dir });
    page = context.pages()[0] || (await context.newPage());
    page.on('pageerror', (error) => pageErrors.push(String(error && error.stack ? error.stack : error)));
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    page.on('request', (request) => requestedUrls.push(request.url()));
    page.on('websocket', (socket) => requestedUrls.push(socket.url()));
  });

  after(async () => {
    if (context) await context.close().catch(() => {});
    await stopServer(server);
    removeDir(dir);
  });

  test('/ loads without a token: product name, sign-in field, strict CSP, no errors', async () => {
    const response = await page.goto(`${server.url}/`);
    assert.equal(response.status(), 200);
    const csp = response.headers()['content-security-policy'] || '';
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    assert.equal(response.headers()['x-content-type-options'], 'nosniff');
    await page.locator('#token').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#signin h1').textContent(), 'mediabridge');
    assert.equal(await page.locator('#app').isHidden(), true);
    // Let the page's startup finish (it probes whether the server admits it without a token).
    await page.waitForTimeout(500);
    await screenshot('01-sign-in.png');
    assert.deepEqual(pageErrors, []);
  });

  test('a wrong token is rejected', async () => {
    await page.fill('#token', 'not-the-token');
    await page.click('#signin-button');
    await page.locator('#signin-error').waitFor({ state: 'visible' });
    assert.match(await page.locator('#signin-error').textContent(), /not accepted/);
    assert.equal(await page.locator('#app').isHidden(), true);
    await screenshot('02-wrong-token.png');
  });

  test('the right token signs in: call list and live feed', async () => {
    await page.fill('#token', TOKEN);
    await page.click('#signin-button');
    await page.locator('#app').waitFor({ state: 'visible' });
    await page.locator('#call-list-empty').waitFor({ state: 'visible' });
    await waitFor('the live feed', async () => (await page.locator('#feed-status').textContent()) === 'Live', 10000);
    assert.ok(!page.url().includes(TOKEN), 'the token is not in the page address');
    assert.deepEqual(pageErrors, []);
  });

  test('the softphone calls the demo agent: transcripts, assistant audio, marks, barge-in', async () => {
    await page.click('#sp-call');
    await waitFor('the softphone to connect', () => page.evaluate(() => window.mbSoftphone.state === 'in-call'), 15000);
    const callSid = await page.evaluate(() => window.mbSoftphone.callSid);
    assert.match(callSid, /^CA[0-9a-f]{32}$/);
    // The dashboard follows the softphone's call as soon as the bridge reports it.
    await page.locator(`#call-list .call-item[data-sid="${callSid}"]`).waitFor({ timeout: 10000 });
    await page.locator('#live-detail .turn.caller').first().waitFor({ timeout: 20000 });
    await page.locator('#live-detail .turn.assistant').first().waitFor({ timeout: 20000 });
    await page.locator('#live-detail .marker.barge-in').first().waitFor({ timeout: 30000 });
    await page.locator('#live-detail .turn.assistant.interrupted .turn-note').first().waitFor({ timeout: 20000 });
    assert.match(await page.locator('#live-detail .turn.caller .bubble').first().textContent(), /Caller utterance/);
    assert.match(await page.locator('#live-detail .turn.assistant .bubble').first().textContent(), /simulated reply/);
    assert.match(await page.locator('#live-detail .turn.assistant.interrupted .turn-note').first().textContent(), /heard \d/);
    // The cut turn reads as the caller heard it: the heard words plain, the rest struck through, and
    // the split marked as an estimate (the Realtime API does not say which words were heard).
    const cut = page.locator('#live-detail .turn.assistant.interrupted').first();
    await cut.locator('.bubble s.unheard').waitFor();
    const bubbleText = await cut.locator('.bubble').textContent();
    const unheardText = await cut.locator('.bubble s.unheard').textContent();
    // The demo model's answers: canned replies, and on its second turn the demo tool's result.
    assert.match(bubbleText, /(simulated reply number \d+\.|The tool answered: \{.*\})$/, 'the whole generated text is shown');
    assert.ok(unheardText.length > 0 && bubbleText.endsWith(unheardText), `struck through: '${unheardText}' of '${bubbleText}'`);
    const heardText = (await cut.locator('.bubble .heard').allTextContents()).join('');
    assert.ok(bubbleText.startsWith(heardText), `heard: '${heardText}' of '${bubbleText}'`);
    assert.match(await cut.locator('.turn-note').textContent(), /heard words estimated/);
    await cut.screenshot({ path: join(ARTIFACTS, '03c-interrupted-turn.png') });
    // Let the answer after the barge-in play, so that the screenshot shows a whole exchange.
    await waitFor('the answer after the barge-in', async () =>
      (await page.locator('#live-detail .turn.assistant:not(.partial):not(.interrupted)').count()) >= 2, 20000);
    const stats = await page.evaluate(() => ({ ...window.mbSoftphone }));
    console.log(`softphone counters: ${JSON.stringify(stats)}`);
    assert.ok(stats.decodedSamples >= 2 * 8000, `assistant audio decoded: ${stats.decodedSamples} samples`);
    assert.ok(stats.playedSamples > 0, 'the player played audio');
    assert.ok(stats.framesSent > 100, 'microphone frames sent');
    assert.ok(stats.marksEchoed > 0 && stats.marksEchoed <= stats.marksReceived, 'marks echoed');
    assert.ok(stats.clears >= 1, 'the bridge cleared the buffer on barge-in');
    await screenshot('03-live-call.png');
    // A small laptop screen: everything still fits without horizontal scrolling.
    await page.setViewportSize({ width: 1280, height: 720 });
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true);
    await screenshot('03b-live-call-1280x720.png');
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  test('hanging up ends the call; history finds it by number and date', async () => {
    const callSid = await page.evaluate(() => window.mbSoftphone.callSid);
    await page.click('#sp-hangup');
    const item = page.locator(`#call-list .call-item[data-sid="${callSid}"]`);
    await waitFor('call.ended', async () => (await item.getAttribute('class')).includes('ended'), 10000);
    await page.click('#tab-history');
    await page.locator(`#history-list .call-item[data-sid="${callSid}"]`).waitFor({ timeout: 10000 });
    await page.locator('#history-detail .turn.assistant.interrupted').first().waitFor({ timeout: 10000 });
    // The stored line keeps what was heard: the same strike-through as live.
    await page.locator('#history-detail .turn.assistant.interrupted .bubble s.unheard').first().waitFor();
    await page.locator('#history-detail .marker.barge-in').first().waitFor();

    await page.fill('#f-number', '+19995550000');
    await page.click('#history-filters button[type="submit"]');
    await page.locator('#history-empty').waitFor({ state: 'visible' });

    const today = await page.evaluate(() => {
      const d = new Date();
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    });
    await page.fill('#f-number', 'softphone');
    await page.fill('#f-since', today);
    await page.fill('#f-until', today);
    await page.click('#history-filters button[type="submit"]');
    await page.locator(`#history-list .call-item[data-sid="${callSid}"]`).waitFor({ timeout: 10000 });
    await page.locator('#history-detail .turn').first().waitFor();
    await screenshot('04-history.png');
  });

  test('the softphone endpoints refuse what they must', async () => {
    const post = (headers) => fetch(`${server.url}/v1/softphone/calls`, { method: 'POST', headers });
    assert.equal((await post({})).status, 401);
    assert.equal((await post({ Authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await fetch(`${server.url}/v1/softphone/calls`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status, 405);
    assert.equal((await fetch(`${server.url}/v1/softphone/stream`)).status, 426);
    assert.equal((await fetch(`${server.url}/static/missing.js`)).status, 404);
    for (const [name, type] of [['app.js', 'text/javascript'], ['style.css', 'text/css'], ['softphone-worklet.js', 'text/javascript']]) {
      const response = await fetch(`${server.url}/static/${name}`);
      assert.equal(response.status, 200);
      assert.ok(response.headers.get('content-type').startsWith(type), `${name}: ${response.headers.get('content-type')}`);
    }
    // The stream's upgrade needs the API token, as the page's own socket presents it.
    const upgradeWithoutToken = await page.evaluate(async (token) => {
      const call = await (await fetch('/v1/softphone/calls', { method: 'POST', headers: { Authorization: `Bearer ${token}` } })).json();
      return new Promise((resolve) => {
        const ws = new WebSocket(call.stream_url);
        ws.onopen = () => resolve({ opened: true });
        ws.onclose = (event) => resolve({ opened: false, code: event.code });
      });
    }, TOKEN);
    assert.deepEqual(upgradeWithoutToken, { opened: false, code: 1006 });
    // A stream whose start carries a forged token is ended by the bridge before any audio flows.
    const closed = await page.evaluate(async (token) => {
      const call = await (await fetch('/v1/softphone/calls', { method: 'POST', headers: { Authorization: `Bearer ${token}` } })).json();
      return new Promise((resolve) => {
        const url = new URL(call.stream_url);
        url.searchParams.set('token', token);
        const ws = new WebSocket(url.href);
        let media = 0;
        ws.onopen = () => ws.send(JSON.stringify({
          event: 'start', sequenceNumber: '1', streamSid: 'MZforged',
          start: { streamSid: 'MZforged', accountSid: 'ACforged', callSid: call.call_sid, tracks: ['inbound'],
            customParameters: { mb_stream_token: `${call.stream_token.split('.')[0]}.AAAA` },
            mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } },
        }));
        ws.onmessage = () => { media += 1; };
        ws.onclose = (event) => resolve({ code: event.code, reason: event.reason, media });
        setTimeout(() => resolve({ code: 0, reason: 'still open after 10 s', media }), 10000);
      });
    }, TOKEN);
    assert.equal(closed.code, 1008, JSON.stringify(closed));
    assert.equal(closed.media, 0);
    assert.match(server.log, /stream from [^ ]+ refused \(unauthorized\): stream token/);
  });

  test('no uncaught page errors and no CSP violations', () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(cspViolations, []);
  });

  test('the token is in no page address and in no server log line', async () => {
    for (const url of requestedUrls) {
      if (url.includes(TOKEN)) assert.match(url, /^ws:\/\/[^/]+\/v1\/(events|softphone\/stream)\?token=/, `token in ${url}`);
    }
    await context.close();
    context = null;
    await stopServer(server);
    assert.match(server.log, /softphone: call CA[0-9a-f]{32} created/);
    assert.ok(!server.log.includes(TOKEN), 'the API token appears in the server log');
  });
});

// The same softphone call on every other provider the bridge speaks, each on its simulated endpoint in
// demo mode: GPT-Live, whose turns the bridge groups itself and whose interruptions it infers
// (docs/protocols.md D5); Azure's Realtime API and GPT-Live (G1, G2); Gemini Live, whose audio the
// bridge resamples both ways (F3).
const otherProviders = [
  { provider: 'openai-live', name: 'GPT-Live', upstream: /upstream: openai-live at ws:\/\/127\.0\.0\.1:\d+\/v1\/live\/sessions/, screenshot: '06-live-provider-call.png' },
  { provider: 'azure-realtime', name: 'Azure Realtime', upstream: /upstream: azure-realtime at ws:\/\/127\.0\.0\.1:\d+\/openai\/v1\/realtime\?model=/, screenshot: '07-azure-realtime-call.png' },
  { provider: 'azure-live', name: 'Azure GPT-Live', upstream: /upstream: azure-live at ws:\/\/127\.0\.0\.1:\d+\/openai\/v1\/live/, screenshot: '08-azure-live-call.png' },
  { provider: 'gemini', name: 'Gemini Live', upstream: /upstream: gemini at ws:\/\/127\.0\.0\.1:\d+\/ws\/google\.ai\.generativelanguage\.v1beta\.GenerativeService\.BidiGenerateContent/, screenshot: '09-gemini-call.png' },
];

for (const { provider, name, upstream, screenshot } of otherProviders) {
  describe(`the softphone on ${name}`, { timeout: 120000 }, () => {
    const providerDir = tempDir(`mb-browser-${provider}-`);
    let providerServer;
    let providerContext;
    let providerPage;
    const providerErrors = [];

    before(async () => {
      const wav = join(providerDir, 'microphone.wav');
      writeMicrophoneWav(wav);
      providerServer = await startServer({ binary: BINARY, apiToken: TOKEN, dir: providerDir, env: { PROVIDER: provider } });
      providerContext = await launchBrowser({ wav, dir: providerDir });
      providerPage = providerContext.pages()[0] || (await providerContext.newPage());
      providerPage.on('pageerror', (error) => providerErrors.push(String(error)));
      await providerPage.goto(providerServer.url);
      await providerPage.fill('#token', TOKEN);
      await providerPage.click('#signin-button');
      await providerPage.locator('#app').waitFor({ state: 'visible' });
    });

    after(async () => {
      if (providerContext) await providerContext.close().catch(() => {});
      await stopServer(providerServer);
      removeDir(providerDir);
    });

    test('a call completes: whole turns, assistant audio, barge-in, a clean hang-up', async () => {
      assert.match(providerServer.log, upstream);
      await providerPage.click('#sp-call');
      await waitFor('the softphone to connect', () => providerPage.evaluate(() => window.mbSoftphone.state === 'in-call'), 15000);
      const callSid = await providerPage.evaluate(() => window.mbSoftphone.callSid);
      await providerPage.locator(`#call-list .call-item[data-sid="${callSid}"]`).waitFor({ timeout: 10000 });
      await providerPage.locator('#live-detail .turn.caller:not(.partial)').first().waitFor({ timeout: 20000 });
      await providerPage.locator('#live-detail .turn.assistant:not(.partial)').first().waitFor({ timeout: 20000 });
      await waitFor('a whole caller turn', async () =>
        /Caller utterance \d/.test(await providerPage.locator('#live-detail .turn.caller:not(.partial) .bubble').first().textContent()), 20000);
      await providerPage.locator('#live-detail .marker.barge-in').first().waitFor({ timeout: 30000 });
      await providerPage.locator('#live-detail .turn.assistant.interrupted').first().waitFor({ timeout: 20000 });
      const stats = await providerPage.evaluate(() => ({ ...window.mbSoftphone }));
      assert.ok(stats.decodedSamples >= 8000, `assistant audio decoded: ${stats.decodedSamples} samples`);
      assert.ok(stats.clears >= 1, 'the bridge cleared the buffer when the caller talked over the answer');
      await providerPage.screenshot({ path: join(ARTIFACTS, screenshot) });
      await providerPage.click('#sp-hangup');
      const item = providerPage.locator(`#call-list .call-item[data-sid="${callSid}"]`);
      await waitFor('call.ended', async () => (await item.getAttribute('class')).includes('ended'), 10000);
      assert.match(providerServer.log, new RegExp(`call ${callSid}: ended reason=caller_hung_up`));
      assert.deepEqual(providerErrors, []);
    });
  });
}

describe('a server without API_TOKEN (scripts/run)', { timeout: 60000 }, () => {
  const plainDir = tempDir('mb-browser-plain-');
  let plainServer;
  let browser;

  after(async () => {
    if (browser) await browser.close().catch(() => {});
    await stopServer(plainServer);
    removeDir(plainDir);
  });

  test('the console signs a loopback visitor in by itself', async () => {
    plainServer = await startServer({ binary: BINARY, apiToken: '', dir: plainDir });
    const wav = join(plainDir, 'microphone.wav');
    writeMicrophoneWav(wav);
    browser = await launchBrowser({ wav, dir: plainDir });
    const tab = browser.pages()[0] || (await browser.newPage());
    const errors = [];
    tab.on('pageerror', (error) => errors.push(String(error)));
    await tab.goto(`${plainServer.url}/`);
    await tab.locator('#app').waitFor({ state: 'visible', timeout: 10000 });
    await waitFor('the live feed', async () => (await tab.locator('#feed-status').textContent()) === 'Live', 10000);
    assert.equal(await tab.locator('#signin').isHidden(), true);
    await tab.screenshot({ path: join(ARTIFACTS, '05-loopback-no-token.png') });
    assert.deepEqual(errors, []);
  });
});
