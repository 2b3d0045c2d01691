// What the browser test needs around the page: the mediabridge server in demo mode, a microphone WAV
// and Debian's Chromium. Everything it starts, it stops (stopAll), and every wait is bounded.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.MB_CHROMIUM || '/usr/bin/chromium';

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

export async function waitFor(what, predicate, timeoutMs, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

// The built server, in demo mode (no OPENAI_API_KEY: the built-in Realtime simulator answers), on
// loopback, with its whole log (stdout and stderr) kept for the test to read.
// `env`: more settings, e.g. { PROVIDER: 'openai-live' }.
// `env`: extra variables, or a function of the server's port returning them (e.g. for PUBLIC_URL).
export async function startServer({ binary, apiToken, dir, env: extra = {} }) {
  const port = await freePort();
  const env = { ...process.env };
  delete env.OPENAI_API_KEY;
  delete env.TWILIO_AUTH_TOKEN;
  Object.assign(env, {
    PORT: String(port),
    LISTEN_HOST: '127.0.0.1',
    API_TOKEN: apiToken,
    DATABASE_PATH: join(dir, 'calls.db'),
    LOG_LEVEL: 'debug', // the token must not appear even in debug lines
    WORKER_THREADS: '2',
  }, typeof extra === 'function' ? extra(port) : extra);
  const child = spawn(binary, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const server = { child, port, url: `http://127.0.0.1:${port}`, log: '', exited: false };
  child.stdout.on('data', (d) => { server.log += d; });
  child.stderr.on('data', (d) => { server.log += d; });
  child.on('exit', () => { server.exited = true; });
  await waitFor('the server to answer /healthz', async () => {
    if (server.exited) throw new Error(`mediabridge exited during startup:\n${server.log}`);
    try {
      return (await fetch(`${server.url}/healthz`)).ok;
    } catch {
      return false;
    }
  }, 15000);
  return server;
}

export async function stopServer(server) {
  if (!server || server.exited) return;
  server.child.kill('SIGTERM'); // drains: calls may finish, then it exits
  const exited = await Promise.race([once(server.child, 'exit').then(() => true), new Promise((r) => setTimeout(r, 8000, false))]);
  if (!exited) {
    server.child.kill('SIGKILL');
    await once(server.child, 'exit');
  }
}

// The fake microphone, timed against the demo simulator (simulator/): its VAD ends a turn after
// 500 ms of silence and then answers with 2 s of audio, which the bridge paces to real time. Per 12 s
// loop (Chromium repeats the file):
//   0.6–1.8 s  the caller speaks             → the assistant answers ~2.3–4.3 s, heard in full
//   5.0–6.0 s  the caller speaks again       → the assistant answers from ~6.5 s …
//   7.2–8.0 s  … and is interrupted          → barge-in: clear, truncate, an interrupted turn
// The "speech" is a voiced sound: a 110–150 Hz harmonic series with vowel-like formants, modulated at
// a syllable rate, so that Chromium's noise suppression keeps it like a voice (a steady tone it fades).
export function writeMicrophoneWav(path) {
  const rate = 48000;
  const seconds = 12;
  const bursts = [[0.6, 1.8], [5.0, 6.0], [7.2, 8.0]];
  const samples = new Float32Array(rate * seconds);
  const formants = [[700, 130], [1220, 150], [2600, 250]];
  const weight = (f) => formants.reduce((sum, [center, width]) => sum + Math.exp(-(((f - center) / width) ** 2)), 0.05);
  for (const [start, end] of bursts) {
    let phase = 0;
    for (let n = Math.floor(start * rate); n < Math.floor(end * rate); n++) {
      const t = n / rate - start;
      const f0 = 130 + 20 * Math.sin(2 * Math.PI * 1.7 * t);
      phase += (2 * Math.PI * f0) / rate;
      let v = 0;
      for (let k = 1; k * f0 < 3800; k++) v += weight(k * f0) * Math.sin(k * phase);
      const syllables = 0.45 + 0.55 * Math.sin(Math.PI * 4.5 * t) ** 2;
      const ramp = Math.min(1, t / 0.03, (end - start - t) / 0.03);
      samples[n] = v * syllables * ramp;
    }
  }
  let peak = 0;
  for (const v of samples) peak = Math.max(peak, Math.abs(v));
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((v, i) => data.writeInt16LE(Math.round((v / peak) * 0.5 * 32767), i * 2));
  writeFileSync(path, pcmWav(data, rate, 1));
}

// A WAV file of 16-bit PCM `data` (interleaved little-endian samples).
export function pcmWav(data, rate, channels) {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2 * channels, 28);
  header.writeUInt16LE(2 * channels, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

// Debian's Chromium, headless, on a fresh profile, with the WAV as its microphone.
export async function launchBrowser({ wav, dir }) {
  return chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 900 },
    deviceScaleFactor: 1,
    permissions: ['microphone'],
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${wav}`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}
