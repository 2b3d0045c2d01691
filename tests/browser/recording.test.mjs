// The recording player of a stored call in Chromium (docs/dashboard.md, docs/recording.md "The dashboard
// player"). Run by scripts/browser-test:
//   MB_BINARY=build/app/mediabridge MB_ARTIFACTS=tests/artifacts node --test recording.test.mjs
//
// Part one is exact: a stored call the test writes into the server's database (its transcript lines and
// barge-in), whose detail's `recording` and whose recording.wav the test serves through the page's
// routes: a WAV it synthesises, with sound only where it put some. The canvas must have drawn each
// channel there and nowhere else, the markers must sit where the events' times fall, and seeking and
// playing must move the position and the cursor. The empty and incomplete states come from the same
// call with another `recording`. Part two records a real softphone call (RECORD_CALLS=true) with a
// barge-in, and plays it in the history.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, pcmWav, removeDir, startServer, stopServer, tempDir, waitFor, writeMicrophoneWav } from './harness.mjs';

const BINARY = resolve(process.env.MB_BINARY || '../../build/app/mediabridge');
const ARTIFACTS = resolve(process.env.MB_ARTIFACTS || '../artifacts');
const TOKEN = `mbtest-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
const CALLER_COLOR = [100, 116, 139]; // WAVE_COLORS.caller in web/app.js
const ASSISTANT_COLOR = [79, 70, 229]; // WAVE_COLORS.assistant
const BAND_PX = 44; // WAVE_ROW_PX: each channel's band of the canvas (deviceScaleFactor 1)

// The synthetic call: 6 s of stereo at 8 kHz. The caller speaks 1.0–2.0 s; the assistant is heard
// 2.5–4.0 s (cut by the barge-in at 4.0 s, having played 1.5 s) and again 4.6–5.2 s.
const SID = `CA${'5'.repeat(32)}`;
const RATE = 8000;
const DURATION_MS = 6000;
const CALLER_SOUND = [[1000, 2000]];
const ASSISTANT_SOUND = [[2500, 4000], [4600, 5200]];
const RECORDING_START = Date.now() - 3600000; // WAV sample 0
const EVENTS = {
  caller: 2300, // transcript.final of the caller, ms after sample 0
  assistant: 2600,
  barge: 4000,
  heard: 1500, // the barge-in's audio_end_ms
  early: -500, // a line from before the recording started: not on the time line
};

const dir = tempDir('mb-browser-recording-');
let server;
let context;
let page;
const pageErrors = [];
const cspViolations = [];
// What the routes serve for the synthetic call: fields that replace the stored detail's (its
// `recording`, and `ended_at` for a running call), the WAV's answer, and the WAV requests seen.
const served = { detail: {}, wav: null, wavRequests: [] };

function synthesiseWav() {
  const frames = (RATE * DURATION_MS) / 1000;
  const data = Buffer.alloc(frames * 4);
  const tone = (spans, hz, amplitude, channel) => {
    for (const [from, to] of spans) {
      for (let n = (from * RATE) / 1000; n < (to * RATE) / 1000; n++) {
        const v = Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * hz * n) / RATE));
        data.writeInt16LE(v, n * 4 + channel * 2);
      }
    }
  };
  tone(CALLER_SOUND, 300, 0.5, 0);
  tone(ASSISTANT_SOUND, 520, 0.4, 1);
  return pcmWav(data, RATE, 2); // left the caller, right the assistant as heard
}

const WAV = synthesiseWav();
const RECORDING = {
  started_at: RECORDING_START, duration_ms: DURATION_MS, wav_bytes: WAV.length, log_bytes: 52000,
  complete: true, dropped_bytes: 0,
};

// The call as the store writes it: started a little before the recording's sample 0.
function storeCall(database) {
  const at = (ms) => RECORDING_START + ms;
  const started = at(-800);
  const sql = [
    'PRAGMA busy_timeout = 5000;',
    `INSERT INTO calls (call_sid, stream_sid, from_number, to_number, agent, parameters, started_at, ended_at,
       end_reason, end_detail, duration_ms, input_tokens, output_tokens, total_tokens, transport)
     VALUES ('${SID}', 'MZ${'5'.repeat(32)}', '+15550000005', '+15005550001', 'default', '{}', ${started},
       ${at(DURATION_MS)}, 'caller_hung_up', '', ${DURATION_MS + 800}, 10, 10, 20, 'media-stream');`,
    `INSERT INTO transcript_lines (call_sid, at, role, item_id, text) VALUES
       ('${SID}', ${at(EVENTS.early)}, 'caller', 'item_0', 'Before the recording.'),
       ('${SID}', ${at(EVENTS.caller)}, 'caller', 'item_1', 'Where is my order?');`,
    `INSERT INTO transcript_lines (call_sid, at, role, item_id, text, interrupted, heard_ms, heard_text, heard_text_estimated)
       VALUES ('${SID}', ${at(EVENTS.assistant)}, 'assistant', 'item_2', 'It left <b>the warehouse</b> this morning.',
       1, ${EVENTS.heard}, 'It left', 1);`,
    `INSERT INTO barge_ins (call_sid, at, item_id, audio_end_ms) VALUES ('${SID}', ${at(EVENTS.barge)}, 'item_2', ${EVENTS.heard});`,
  ].join('\n');
  execFileSync('sqlite3', [database], { input: sql, timeout: 10000 });
}

// A 16-bit PCM WAV's rate and channels (as samples in [-1, 1)).
function parseWav(bytes) {
  assert.equal(bytes.toString('latin1', 0, 4), 'RIFF');
  assert.equal(bytes.toString('latin1', 8, 12), 'WAVE');
  let format = null;
  for (let at = 12; at + 8 <= bytes.length;) {
    const id = bytes.toString('latin1', at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    if (id === 'fmt ') format = { count: bytes.readUInt16LE(at + 10), rate: bytes.readUInt32LE(at + 12), bits: bytes.readUInt16LE(at + 22) };
    if (id === 'data') {
      assert.ok(format && format.bits === 16, 'fmt before data, 16-bit');
      const frames = Math.floor(Math.min(size, bytes.length - at - 8) / (2 * format.count));
      const channels = Array.from({ length: format.count }, () => new Float32Array(frames));
      for (let f = 0; f < frames; f++) {
        for (let c = 0; c < format.count; c++) channels[c][f] = bytes.readInt16LE(at + 8 + (f * format.count + c) * 2) / 32768;
      }
      return { rate: format.rate, channels };
    }
    at += 8 + size + (size & 1);
  }
  throw new Error('no data chunk');
}

// The loudest sample of each of `columns` equal slices of the channel.
function columnPeaks(samples, columns) {
  const peaks = [];
  for (let c = 0; c < columns; c++) {
    let peak = 0;
    const to = Math.min(samples.length, Math.floor(((c + 1) * samples.length) / columns));
    for (let i = Math.floor((c * samples.length) / columns); i < to; i++) peak = Math.max(peak, Math.abs(samples[i]));
    peaks.push(peak);
  }
  return peaks;
}

async function routeSyntheticRecording() {
  await page.route((url) => url.pathname === `/v1/calls/${SID}`, async (route) => {
    const response = await route.fetch();
    const detail = await response.json();
    await route.fulfill({ response, json: { ...detail, ...served.detail } });
  });
  await page.route((url) => url.pathname === `/v1/calls/${SID}/recording.wav`, async (route) => {
    served.wavRequests.push({ url: route.request().url(), authorization: route.request().headers().authorization });
    const { status, body } = served.wav;
    await route.fulfill(status === 200
      ? { status, contentType: 'audio/wav', body }
      : { status, contentType: 'application/json', body: JSON.stringify(body) });
  });
}

async function signIn() {
  await page.goto(`${server.url}/`);
  await page.fill('#token', TOKEN);
  await page.click('#signin-button');
  await page.locator('#app').waitFor({ state: 'visible' });
}

// Shows the call in the history (again), with `served` as it is now; resolves with the panel.
async function openCall(sid) {
  // The panel shown now is marked, so that the wait below is for the one the click brings.
  await page.evaluate(() => {
    for (const old of document.querySelectorAll('#history-detail .recording-panel')) old.mbShownBefore = true;
  });
  await page.click('#tab-history');
  await page.locator(`#history-list .call-item[data-sid="${sid}"]`).click({ timeout: 10000 });
  await page.waitForFunction((sid) => {
    const panel = document.querySelector('#history-detail .recording-panel');
    return document.querySelector('#history-detail .sid')?.textContent === sid && panel && !panel.mbShownBefore;
  }, sid, { timeout: 10000 });
  const panel = page.locator('#history-detail .recording-panel');
  await waitFor('the recording to load', async () => (await panel.getAttribute('data-state')) !== 'loading', 15000);
  return panel;
}

// Per canvas column, whether the channel's band has a pixel of the channel's colour.
function drawnColumns(band, [r, g, b]) {
  return page.evaluate(({ band, r, g, b, bandPx }) => {
    const canvas = document.querySelector('#history-detail .rec-wave');
    const { data, width } = canvas.getContext('2d').getImageData(0, band * bandPx, canvas.width, bandPx);
    const drawn = new Array(width).fill(false);
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 200 && Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 40) {
        drawn[(i / 4) % width] = true;
      }
    }
    return drawn;
  }, { band, r, g, b, bandPx: BAND_PX });
}

// The columns the spans cover (ms → column), allowing `slack` columns at each edge.
function checkColumns(drawn, spans, durationMs, what) {
  const width = drawn.length;
  const column = (ms) => (ms / durationMs) * width;
  const inside = (c, slack) => spans.some(([from, to]) => c >= column(from) - slack && c < column(to) + slack);
  let expected = 0;
  let hit = 0;
  const stray = [];
  for (let c = 0; c < width; c++) {
    if (inside(c, -2)) {
      expected++;
      if (drawn[c]) hit++;
    } else if (!inside(c, 2) && drawn[c]) {
      stray.push(c);
    }
  }
  assert.ok(expected > 20, `${what}: the spans cover columns (${expected})`);
  assert.ok(hit >= expected * 0.95, `${what}: drawn where it has sound (${hit} of ${expected} columns)`);
  assert.deepEqual(stray, [], `${what}: nothing drawn where it is silent`);
}

async function box(locator) {
  const b = await locator.boundingBox();
  assert.ok(b, 'the element is laid out');
  return b;
}

async function position(panel) {
  return Number(await panel.locator('.rec-track').getAttribute('aria-valuenow'));
}

// Waits for the page to have drawn `n` frames: enough time for a playing cursor to move.
function frames(n) {
  return page.evaluate((n) => new Promise((done) => {
    let left = n;
    const next = () => (--left <= 0 ? done() : requestAnimationFrame(next));
    requestAnimationFrame(next);
  }), n);
}

describe('the recording player in Chromium', { timeout: 180000 }, () => {
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const wav = join(dir, 'microphone.wav');
    writeMicrophoneWav(wav);
    mkdirSync(join(dir, 'recordings'));
    server = await startServer({
      binary: BINARY, apiToken: TOKEN, dir,
      env: { RECORD_CALLS: 'true', RECORDINGS_DIR: join(dir, 'recordings') },
    });
    storeCall(join(dir, 'calls.db'));
    context = await launchBrowser({ wav, dir });
    page = context.pages()[0] || (await context.newPage());
    page.on('pageerror', (error) => pageErrors.push(String(error && error.stack ? error.stack : error)));
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    await routeSyntheticRecording();
    await signIn();
  });

  after(async () => {
    if (context) await context.close().catch(() => {});
    await stopServer(server);
    removeDir(dir);
  });

  test('both channels are drawn where they have sound, and only there', async () => {
    served.detail = { recording: RECORDING };
    served.wav = { status: 200, body: WAV };
    const panel = await openCall(SID);
    assert.equal(await panel.getAttribute('data-state'), 'paused');
    assert.equal(await panel.locator('.rec-time').textContent(), '0:00.0 / 0:06.0');
    assert.equal(await panel.locator('.rec-note').count(), 0, 'a complete recording has no warning');
    const request = served.wavRequests.at(-1);
    assert.equal(request.authorization, `Bearer ${TOKEN}`, 'the WAV is fetched with the token in the header');
    assert.ok(!request.url.includes(TOKEN), 'and not in its address');

    const canvas = await box(panel.locator('.rec-wave'));
    const caller = await drawnColumns(0, CALLER_COLOR);
    const assistant = await drawnColumns(1, ASSISTANT_COLOR);
    assert.equal(caller.length, Math.round(canvas.width), 'one column per pixel');
    checkColumns(caller, CALLER_SOUND, DURATION_MS, 'the caller (left) channel');
    checkColumns(assistant, ASSISTANT_SOUND, DURATION_MS, 'the assistant (right) channel');
    // Neither colour leaks into the other band: the channels are not swapped or mixed.
    assert.ok(!(await drawnColumns(0, ASSISTANT_COLOR)).some(Boolean), 'no assistant colour in the caller band');
    assert.ok(!(await drawnColumns(1, CALLER_COLOR)).some(Boolean), 'no caller colour in the assistant band');
  });

  test('barge-in, truncate and transcript markers sit at their events\' times', async () => {
    const panel = page.locator('#history-detail .recording-panel');
    const track = await box(panel.locator('.rec-track'));
    const x = (ms) => track.x + (ms / DURATION_MS) * track.width;
    const centre = async (locator) => {
      const b = await box(locator);
      return b.x + b.width / 2;
    };
    const near = (actual, expected, what) =>
      assert.ok(Math.abs(actual - expected) <= 1.5, `${what}: x ${actual.toFixed(1)}, expected ${expected.toFixed(1)}`);

    assert.equal(await panel.locator('.rec-mark.barge').count(), 1);
    assert.equal(await panel.locator('.rec-mark.truncate').count(), 1);
    assert.equal(await panel.locator('.rec-mark.line.caller').count(), 1, 'the line before sample 0 is left out');
    assert.equal(await panel.locator('.rec-mark.line.assistant').count(), 1);
    near(await centre(panel.locator('.rec-mark.barge')), x(EVENTS.barge), 'the barge-in');
    near(await centre(panel.locator('.rec-mark.line.caller')), x(EVENTS.caller), "the caller's line");
    near(await centre(panel.locator('.rec-mark.line.assistant')), x(EVENTS.assistant), "the assistant's line");
    const truncate = await box(panel.locator('.rec-mark.truncate'));
    near(truncate.x, x(EVENTS.barge - EVENTS.heard), 'the truncated turn\'s heard part starts');
    near(truncate.x + truncate.width, x(EVENTS.barge), 'and ends at the barge-in');
    assert.ok(truncate.y >= track.y + BAND_PX - 1, 'the truncate is on the assistant channel');
    assert.match(await panel.locator('.rec-mark.barge').getAttribute('title'), /cut at 1\.50 s/);
    assert.equal(await panel.locator('.rec-mark.line.assistant').getAttribute('title'),
      'Assistant: It left <b>the warehouse</b> this morning.', 'a line\'s text is its tooltip, as text');
  });

  test('a click seeks, play moves the cursor, pause stops it, the end stops playback', async () => {
    const panel = page.locator('#history-detail .recording-panel');
    const track = await box(panel.locator('.rec-track'));
    const msPerPixel = DURATION_MS / track.width;
    // In the caller's band, away from the markers: the click's own place.
    await page.mouse.click(track.x + track.width / 2, track.y + 20);
    const seeked = await position(panel);
    assert.ok(Math.abs(seeked - 3000) <= msPerPixel + 1, `seeked to ${seeked} ms, expected 3000`);
    assert.equal(await panel.locator('.rec-time').textContent(), '0:03.0 / 0:06.0');
    const cursor = await box(panel.locator('.rec-cursor'));
    assert.ok(Math.abs(cursor.x + cursor.width / 2 - (track.x + track.width / 2)) <= 1.5, 'the cursor is where the click was');
    assert.equal(await panel.getAttribute('data-state'), 'paused');

    // A marker seeks to its moment: the barge-in to 4.0 s, the truncate to the start of what was heard.
    await panel.locator('.rec-mark.barge').click();
    assert.equal(await position(panel), EVENTS.barge);
    await panel.locator('.rec-mark.truncate').click({ position: { x: 20, y: 20 } });
    assert.equal(await position(panel), EVENTS.barge - EVENTS.heard);

    await panel.locator('.rec-play').click();
    assert.equal(await panel.getAttribute('data-state'), 'playing');
    assert.match(await panel.locator('.rec-play').textContent(), /Pause/);
    const from = EVENTS.barge - EVENTS.heard;
    await waitFor('the position to advance', async () => (await position(panel)) > from + 300, 5000, 50);
    const moved = await box(panel.locator('.rec-cursor'));
    assert.ok(moved.x > track.x + (from / DURATION_MS) * track.width + 5, 'the cursor moved right');
    await panel.locator('.rec-play').click();
    assert.equal(await panel.getAttribute('data-state'), 'paused');
    const paused = await position(panel);
    await frames(20);
    assert.equal(await position(panel), paused, 'paused: the position stays');

    // The keyboard: End, then Home, then a step.
    await panel.locator('.rec-track').focus();
    await page.keyboard.press('Home');
    assert.equal(await position(panel), 0);
    await page.keyboard.press('ArrowRight');
    assert.equal(await position(panel), 5000);

    // Played to the end: playback stops by itself at the WAV's last sample.
    await panel.locator('.rec-play').click();
    await waitFor('the end of the recording', async () => (await panel.getAttribute('data-state')) === 'ended', 5000, 50);
    assert.equal(await position(panel), DURATION_MS);
    assert.match(await panel.locator('.rec-play').textContent(), /Play/);
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(cspViolations, []);
  });

  test('no recording, a running call, one too long, an incomplete one, files gone, an undecodable file', async () => {
    const requests = served.wavRequests.length;
    served.detail = { recording: null };
    let panel = await openCall(SID);
    assert.equal(await panel.getAttribute('data-state'), 'none');
    assert.equal(await panel.getAttribute('open'), null, 'folded');
    assert.match(await panel.locator('summary').textContent(), /not recorded/);
    assert.match(await panel.textContent(), /RECORD_CALLS/);

    served.detail = { recording: { ...RECORDING, complete: false }, ended_at: null };
    panel = await openCall(SID);
    assert.equal(await panel.getAttribute('data-state'), 'recording');
    assert.match(await panel.textContent(), /once the call has ended/);

    served.detail = { recording: { ...RECORDING, wav_bytes: 300 * 1048576 } };
    panel = await openCall(SID);
    assert.equal(await panel.getAttribute('data-state'), 'too-long');
    assert.match(await panel.textContent(), /300\.0 MB\) is too long to play in the page/);
    assert.equal(served.wavRequests.length, requests, 'no WAV asked for without a recording, while the call runs or when too long');

    served.detail = { recording: { ...RECORDING, complete: false, dropped_bytes: 3 * 1048576 } };
    panel = await openCall(SID);
    assert.equal(await panel.getAttribute('data-state'), 'paused', 'an incomplete recording still plays');
    assert.match(await panel.locator('.rec-note').textContent(), /Incomplete: 3\.0 MB of the call's log was lost/);
    assert.equal(await panel.locator('.rec-mark.barge').count(), 1);

    served.detail = { recording: RECORDING };
    served.wav = { status: 404, body: { error: 'no recording' } };
    panel = await openCall(SID);
    assert.equal(await panel.getAttribute('data-state'), 'missing');
    assert.match(await panel.textContent(), /RECORDING_RETENTION_DAYS/);

    served.wav = { status: 409, body: { error: 'still recording' } };
    panel = await openCall(SID);
    assert.equal(await panel.getAttribute('data-state'), 'recording');
    assert.match(await panel.textContent(), /still being written/);

    served.wav = { status: 200, body: Buffer.from('not a wav file at all') };
    panel = await openCall(SID);
    assert.equal(await panel.getAttribute('data-state'), 'error');
    assert.match(await panel.textContent(), /could not be decoded/);
    assert.equal(await panel.locator('.rec-wave').count(), 0);
    assert.deepEqual(pageErrors, []);
  });

  test('a recorded softphone call with a barge-in plays in the history', async () => {
    await page.click('#tab-live');
    await page.click('#sp-call');
    await waitFor('the softphone to connect', () => page.evaluate(() => window.mbSoftphone.state === 'in-call'), 15000);
    const callSid = await page.evaluate(() => window.mbSoftphone.callSid);
    // The microphone's third burst (7.2–8.0 s of its loop) talks over the second answer.
    await page.locator('#live-detail .marker.barge-in').first().waitFor({ timeout: 30000 });
    // and the answer to that third burst, so that the recording goes on after the barge-in.
    await waitFor('a third assistant turn', async () =>
      (await page.locator('#live-detail .turn.assistant:not(.partial)').count()) >= 3, 15000);
    await page.click('#sp-hangup');
    await waitFor('call.ended', async () =>
      (await page.locator(`#call-list .call-item[data-sid="${callSid}"]`).getAttribute('class')).includes('ended'), 10000);

    const authorised = { headers: { Authorization: `Bearer ${TOKEN}` } };
    const detail = await waitFor('the finished recording', async () => {
      const d = await (await fetch(`${server.url}/v1/calls/${callSid}`, authorised)).json();
      return d.recording && d.recording.complete ? d : null;
    }, 15000, 200);
    assert.ok(detail.barge_ins.length >= 1, 'the call stored its barge-in');
    const response = await fetch(`${server.url}/v1/calls/${callSid}/recording.wav`, authorised);
    assert.equal(response.status, 200);
    const wav = parseWav(Buffer.from(await response.arrayBuffer()));
    assert.equal(wav.channels.length, 2, 'a stereo WAV');
    const durationMs = (wav.channels[0].length / wav.rate) * 1000;

    const panel = await openCall(callSid);
    assert.equal(await panel.getAttribute('data-state'), 'paused');
    // Each band is drawn in the columns where its channel has sound, and not where it is silent.
    const bands = [await drawnColumns(0, CALLER_COLOR), await drawnColumns(1, ASSISTANT_COLOR)];
    const width = bands[0].length;
    assert.equal(width, Math.round((await box(panel.locator('.rec-wave'))).width), 'one column per pixel');
    for (const [band, what] of [[0, 'caller'], [1, 'assistant']]) {
      const drawn = bands[band];
      const peaks = columnPeaks(wav.channels[band], width);
      const loud = peaks.map((p, c) => (p >= 0.02 ? c : -1)).filter((c) => c >= 0);
      const silent = peaks.map((p, c) => (p === 0 && peaks[c - 1] === 0 && peaks[c + 1] === 0 ? c : -1)).filter((c) => c >= 0);
      assert.ok(loud.length > 10, `the ${what} channel has sound in the WAV (${loud.length} columns)`);
      const missed = loud.filter((c) => !drawn[c]);
      assert.ok(missed.length <= loud.length * 0.02, `the ${what} band is drawn where the WAV has sound (missed ${missed.length} `
        + `of ${loud.length}: columns ${missed.slice(0, 12).join(' ')}… of ${width}; the page's duration `
        + `${await panel.locator('.rec-track').getAttribute('aria-valuemax')} ms, the WAV's ${durationMs} ms)`);
      assert.deepEqual(silent.filter((c) => drawn[c]), [], `the ${what} band is empty where the WAV is silent`);
    }
    // The barge-ins at their times on the WAV's time line.
    const track = await box(panel.locator('.rec-track'));
    const inside = detail.barge_ins.map((b) => Date.parse(b.time) - detail.recording.started_at)
      .filter((at) => at >= 0 && at <= durationMs);
    assert.equal(inside.length, detail.barge_ins.length, 'every barge-in happened while recording');
    const marks = panel.locator('.rec-mark.barge');
    assert.equal(await marks.count(), inside.length);
    for (let i = 0; i < inside.length; i++) {
      const b = await box(marks.nth(i));
      const expected = track.x + (inside[i] / durationMs) * track.width;
      assert.ok(Math.abs(b.x + b.width / 2 - expected) <= 1.5, `barge-in ${i} at x ${b.x + b.width / 2}, expected ${expected}`);
    }
    assert.equal(await panel.locator('.rec-mark.line.caller').count(),
      detail.transcript.filter((l) => l.role === 'caller').length, "each caller line is on the time line");

    // From a second before the barge-in, played past it and paused before the end (the barge-in may
    // come shortly before the hang-up).
    const from = Math.max(0, inside[0] - 1000);
    const until = Math.min(inside[0] + 100, durationMs - 300);
    await page.mouse.click(track.x + (from / durationMs) * track.width, track.y + 8);
    await panel.locator('.rec-play').click();
    await waitFor('the cursor to pass the barge-in', async () => (await position(panel)) > until, 5000, 20);
    await panel.locator('.rec-play').click();
    assert.equal(await panel.getAttribute('data-state'), 'paused');
    const cursor = await box(panel.locator('.rec-cursor'));
    assert.ok(cursor.x + cursor.width / 2 > track.x + (until / durationMs) * track.width - 1.5, 'the cursor is past the barge-in');
    await page.screenshot({ path: join(ARTIFACTS, '15-recording-player.png') });
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(cspViolations, []);
  });
});
