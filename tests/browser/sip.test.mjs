// The dashboard's SIP badge in Chromium (docs/dashboard.md, docs/sip.md): a call OpenAI took over SIP
// is marked "SIP" in the live list, the history list and the call's detail; a Media Streams call is not.
// Run by scripts/browser-test:
//   MB_BINARY=build/app/mediabridge MB_ARTIFACTS=tests/artifacts node --test sip.test.mjs
//
// No SIP call is placed: the live calls are call.started events in call/event_json.cpp's shape that
// the test adds to the page's routed /v1/events socket, and the stored calls are rows the test writes
// into the server's own database (sqlite3) after the server has created and migrated it.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, removeDir, startServer, stopServer, tempDir, waitFor, writeMicrophoneWav } from './harness.mjs';

const BINARY = resolve(process.env.MB_BINARY || '../../build/app/mediabridge');
const ARTIFACTS = resolve(process.env.MB_ARTIFACTS || '../artifacts');
const TOKEN = `mbtest-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;

const SIP_LIVE = `rtc_${'1'.repeat(32)}`;
const MEDIA_LIVE = `CA${'2'.repeat(32)}`;
const SIP_STORED = `rtc_${'3'.repeat(32)}`;
const MEDIA_STORED = `CA${'4'.repeat(32)}`;

const dir = tempDir('mb-browser-sip-');
let server;
let context;
let page;
let feed = null; // the page's routed /v1/events socket
const pageErrors = [];

// An event in call/event_json.cpp's shape, sent to the page.
function inject(event) {
  feed.send(JSON.stringify({ time: new Date().toISOString(), ...event }));
}

// Two ended calls as the store writes them: one over SIP with a short transcript, one Media Streams.
function storeCalls(database) {
  const now = Date.now();
  const call = (sid, from, transport, startedAt) =>
    `INSERT INTO calls (call_sid, stream_sid, from_number, to_number, agent, parameters, started_at, ended_at,
       end_reason, end_detail, duration_ms, input_tokens, output_tokens, total_tokens, transport)
     VALUES ('${sid}', '', '${from}', '+15005550001', 'concierge', '{}', ${startedAt}, ${startedAt + 42000},
       'caller_hung_up', '', 42000, 120, 80, 200, '${transport}');`;
  const line = (sid, at, role, item, text) =>
    `INSERT INTO transcript_lines (call_sid, at, role, item_id, text) VALUES ('${sid}', ${at}, '${role}', '${item}', '${text}');`;
  const sql = [
    'PRAGMA busy_timeout = 5000;',
    call(MEDIA_STORED, '+15550000004', 'media-stream', now - 120000),
    call(SIP_STORED, '+15550000003', 'sip', now - 60000),
    line(SIP_STORED, now - 59000, 'assistant', 'item_1', 'Hello, concierge desk. How can I help?'),
    line(SIP_STORED, now - 55000, 'caller', 'item_2', 'I would like a table for two tonight.'),
  ].join('\n');
  execFileSync('sqlite3', [database], { input: sql, timeout: 10000 });
}

describe('the SIP badge in Chromium', { timeout: 90000 }, () => {
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const wav = join(dir, 'microphone.wav');
    writeMicrophoneWav(wav);
    server = await startServer({ binary: BINARY, apiToken: TOKEN, dir });
    storeCalls(join(dir, 'calls.db'));
    context = await launchBrowser({ wav, dir });
    page = context.pages()[0] || (await context.newPage());
    page.on('pageerror', (error) => pageErrors.push(String(error && error.stack ? error.stack : error)));
    await page.routeWebSocket(/\/v1\/events(\?|$)/, (ws) => {
      feed = ws;
      const upstream = ws.connectToServer();
      upstream.onMessage((message) => ws.send(message));
    });
  });

  after(async () => {
    if (context) await context.close().catch(() => {});
    await stopServer(server);
    removeDir(dir);
  });

  test('a live SIP call is marked SIP in the list and its detail; a Media Streams call is not', async () => {
    await page.goto(`${server.url}/`);
    await page.fill('#token', TOKEN);
    await page.click('#signin-button');
    await page.locator('#app').waitFor({ state: 'visible' });
    await waitFor('the live feed', async () => (await page.locator('#feed-status').textContent()) === 'Live', 10000);

    inject({ type: 'call.started', call_sid: MEDIA_LIVE, stream_sid: `MZ${'2'.repeat(32)}`, from: '+15550000002',
      to: '+15005550001', agent: 'concierge', transport: 'media-stream', parameters: {} });
    inject({ type: 'call.started', call_sid: SIP_LIVE, stream_sid: '', from: '+15550000001', to: '+15005550001',
      agent: 'concierge', transport: 'sip', parameters: {} });
    inject({ type: 'transcript.final', call_sid: SIP_LIVE, role: 'assistant', item_id: 'item_1',
      text: 'Hello, concierge desk. How can I help?', interrupted: false });
    inject({ type: 'transcript.final', call_sid: SIP_LIVE, role: 'caller', item_id: 'item_2',
      text: 'Could you book a taxi for six?' });

    const sipItem = page.locator(`#call-list .call-item[data-sid="${SIP_LIVE}"]`);
    const mediaItem = page.locator(`#call-list .call-item[data-sid="${MEDIA_LIVE}"]`);
    await sipItem.waitFor({ timeout: 5000 });
    await mediaItem.waitFor({ timeout: 5000 });
    assert.deepEqual(await sipItem.locator('.pill-sip').allTextContents(), ['SIP']);
    assert.equal(await sipItem.locator('.pill-live').count(), 1, 'the badge sits beside the status, not instead of it');
    assert.equal(await mediaItem.locator('.pill-sip').count(), 0);

    await mediaItem.click();
    await page.locator('#live-detail .detail-title').waitFor({ timeout: 5000 });
    assert.equal(await page.locator('#live-detail .detail-title .pill-sip').count(), 0);
    await sipItem.click();
    await page.locator('#live-detail .turn.caller').first().waitFor({ timeout: 5000 });
    assert.deepEqual(await page.locator('#live-detail .detail-title .pill-sip').allTextContents(), ['SIP']);
    await page.screenshot({ path: join(ARTIFACTS, '12-sip-badge.png') });
    assert.deepEqual(pageErrors, []);
  });

  test('a stored SIP call is marked SIP in the history list and its detail', async () => {
    await page.click('#tab-history');
    const sipRow = page.locator(`#history-list .call-item[data-sid="${SIP_STORED}"]`);
    const mediaRow = page.locator(`#history-list .call-item[data-sid="${MEDIA_STORED}"]`);
    await sipRow.waitFor({ timeout: 10000 });
    await mediaRow.waitFor({ timeout: 10000 });
    assert.deepEqual(await sipRow.locator('.pill-sip').allTextContents(), ['SIP']);
    assert.equal(await mediaRow.locator('.pill-sip').count(), 0);

    await mediaRow.click();
    await page.locator('#history-detail .detail-title').waitFor({ timeout: 5000 });
    await waitFor('the Media Streams call\'s detail', async () =>
      (await page.locator('#history-detail .sid').textContent()) === MEDIA_STORED, 5000);
    assert.equal(await page.locator('#history-detail .detail-title .pill-sip').count(), 0);
    await sipRow.click();
    await waitFor('the SIP call\'s detail', async () =>
      (await page.locator('#history-detail .sid').textContent()) === SIP_STORED, 5000);
    assert.deepEqual(await page.locator('#history-detail .detail-title .pill-sip').allTextContents(), ['SIP']);
    await page.locator('#history-detail .turn.caller').first().waitFor({ timeout: 5000 });
    await page.screenshot({ path: join(ARTIFACTS, '12b-sip-history.png') });
    assert.deepEqual(pageErrors, []);
  });
});
