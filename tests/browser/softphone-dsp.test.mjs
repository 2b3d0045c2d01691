// The softphone's signal path without a browser: the AudioWorklet processors of web/softphone-worklet.js
// run in a node:vm context with a stub worklet scope, and the page's μ-law table and upsampler are
// imported from web/softphone.js.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import vm from 'node:vm';

import { ULAW_TO_FLOAT, Upsampler } from '../../web/softphone.js';

const QUANTUM = 128; // Web Audio's render quantum

function loadProcessors(sampleRate) {
  const processors = {};
  class AudioWorkletProcessor {
    constructor() {
      this.posted = [];
      this.port = { postMessage: (message) => this.posted.push(message), onmessage: null };
    }
  }
  const scope = { sampleRate, AudioWorkletProcessor, registerProcessor: (name, cls) => { processors[name] = cls; } };
  vm.createContext(scope);
  vm.runInContext(readFileSync(new URL('../../web/softphone-worklet.js', import.meta.url), 'utf8'), scope);
  processors.linearToUlaw = scope.linearToUlaw; // a top-level function of the worklet script
  return processors;
}

// Feeds `seconds` of a sine through mb-capture; returns the decoded 8 kHz signal.
function capture(sampleRate, hz, seconds, amplitude = 0.5) {
  const processors = loadProcessors(sampleRate);
  const node = new processors['mb-capture']();
  const total = Math.floor(sampleRate * seconds);
  for (let start = 0; start < total; start += QUANTUM) {
    const block = new Float32Array(QUANTUM);
    for (let i = 0; i < QUANTUM; i++) block[i] = amplitude * Math.sin((2 * Math.PI * hz * (start + i)) / sampleRate);
    node.process([[block]], [[]]);
  }
  const frames = node.posted.map((m) => m.frame);
  for (const f of frames) assert.equal(f.length, 160);
  const decoded = new Float32Array(frames.length * 160);
  frames.forEach((f, k) => f.forEach((code, i) => { decoded[k * 160 + i] = ULAW_TO_FLOAT[code]; }));
  return { frames: frames.length, decoded };
}

function rms(signal, skip = 400) {
  let sum = 0;
  for (let i = skip; i < signal.length; i++) sum += signal[i] * signal[i];
  return Math.sqrt(sum / (signal.length - skip));
}

for (const rate of [48000, 44100]) {
  test(`capture at ${rate} Hz: 160-byte frames every 20 ms, speech band kept, aliases removed`, () => {
    const speech = capture(rate, 1000, 2);
    assert.ok(Math.abs(speech.frames - 100) <= 1, `${speech.frames} frames in 2 s`);
    const level = rms(speech.decoded);
    assert.ok(Math.abs(20 * Math.log10(level / (0.5 / Math.SQRT2))) < 0.5, `1 kHz kept at ${level}`);
    // 6 kHz would fold to 2 kHz at 8 kHz without the low-pass.
    const alias = rms(capture(rate, 6000, 2).decoded);
    assert.ok(20 * Math.log10(alias / level) < -30, `6 kHz leaks at ${(20 * Math.log10(alias / level)).toFixed(1)} dB`);
  });
}

test('μ-law: silence is 0xFF, and every code decodes within its quantisation step', () => {
  const processors = loadProcessors(8000); // 8 kHz in: the capture path is a plain encoder
  const node = new processors['mb-capture']();
  node.process([[new Float32Array(160)]], [[]]);
  assert.ok(node.posted[0].frame.every((c) => c === 0xff));
  for (let s = -32768; s < 32768; s += 3) {
    const back = ULAW_TO_FLOAT[processors.linearToUlaw(s)] * 32768;
    assert.ok(Math.abs(back - s) <= Math.max(16, Math.abs(s) / 15), `${s} → ${back}`);
  }
  assert.equal(ULAW_TO_FLOAT[0x80], 32124 / 32768);
  assert.equal(ULAW_TO_FLOAT[0x00], -32124 / 32768);
});

test('upsampler: exactly 6 output samples per input at 48 kHz, continuous across chunks', () => {
  const up = new Upsampler(8000, 48000);
  let produced = 0;
  const out = [];
  for (let chunk = 0; chunk < 50; chunk++) {
    const input = new Float32Array(160).map((_, i) => Math.sin((2 * Math.PI * 500 * (chunk * 160 + i)) / 8000));
    const o = up.run(input);
    produced += o.length;
    out.push(...o);
  }
  assert.ok(Math.abs(produced - 50 * 160 * 6) <= 6, `${produced}`);
  for (let i = 1; i < out.length; i++) assert.ok(Math.abs(out[i] - out[i - 1]) < 0.07, `jump at ${i}`);
  const odd = new Upsampler(8000, 44100);
  let total = 0;
  for (let chunk = 0; chunk < 100; chunk++) total += odd.run(new Float32Array(160)).length;
  assert.ok(Math.abs(total - 2 * 44100) <= 2, `${total}`);
});

test('player: a mark is reported once the audio before it has played; clear drops audio and marks', () => {
  const processors = loadProcessors(48000);
  const player = new processors['mb-player']();
  const send = (message) => player.port.onmessage({ data: message });
  const render = () => {
    const out = [new Float32Array(QUANTUM), new Float32Array(QUANTUM)];
    player.process([], [out]);
    return out[0];
  };
  const played = () => player.posted.filter((m) => m.type === 'played').map((m) => m.name);

  send({ type: 'mark', name: 'at-once' }); // nothing queued: echoed at once, as Twilio does
  assert.deepEqual(played(), ['at-once']);
  send({ type: 'audio', samples: new Float32Array(300).fill(0.25) });
  send({ type: 'mark', name: 'a' });
  send({ type: 'audio', samples: new Float32Array(300).fill(0.25) });
  send({ type: 'mark', name: 'b' });
  render();
  render();
  assert.deepEqual(played(), ['at-once']); // 256 of the first 300 samples played
  const third = render(); // samples 256..383: the first chunk ends at 300
  assert.equal(third[43], 0.25);
  assert.deepEqual(played(), ['at-once', 'a']);
  send({ type: 'clear' });
  const after = render();
  assert.ok(after.every((v) => v === 0), 'cleared audio does not play');
  assert.deepEqual(played(), ['at-once', 'a'], 'the page echoes cleared marks itself, the player never');
});
