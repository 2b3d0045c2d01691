// A stored call's recording in the history (docs/recording.md "The dashboard player"): the stereo WAV of
// GET /v1/calls/{sid}/recording.wav (left: the caller as received; right: the assistant as the caller
// heard it), decoded by Web Audio, drawn as two waveforms and played. WAV sample 0 is the recording's
// started_at, so a call event's place on the time line is its time minus started_at.
//
// This module holds what has no DOM of its own: the markers from the call's detail, the waveform's
// peaks and drawing, and the playback. app.js builds the panel around them.

// A longer recording is not fetched: 256 MiB of WAV (about 2 h 20 min at 8 kHz stereo) decodes to
// twice that in Float32, which is as much as a tab should hold for one call.
export const RECORDING_MAX_BYTES = 256 * 1024 * 1024;
const TITLE_MAX = 240; // characters of a transcript line in a marker's tooltip

// The WAV's sample rate from its fmt chunk, or null when the bytes are not a RIFF WAVE file.
export function wavSampleRate(bytes) {
  const view = new DataView(bytes);
  const tag = (at) => String.fromCharCode(...new Uint8Array(bytes, at, 4));
  if (bytes.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') return null;
  for (let at = 12; at + 8 <= bytes.byteLength;) {
    const size = view.getUint32(at + 4, true);
    if (tag(at) === 'fmt ' && size >= 16 && at + 16 <= bytes.byteLength) return view.getUint32(at + 12, true);
    at += 8 + size + (size & 1);
  }
  return null;
}

function clipped(text) {
  return text.length > TITLE_MAX ? `${text.slice(0, TITLE_MAX)}…` : text;
}

// The call's barge-ins, truncates and transcript lines on the recording's time line (ms from WAV
// sample 0), from GET /v1/calls/{sid}. A barge-in is the moment playback was cleared and the cut turn
// truncated at audio_end_ms: the truncate spans the part of that turn the caller heard, which ends
// where the clear took effect. Events outside [0, durationMs] are left out.
export function recordingMarkers(detail, startedAt, durationMs) {
  const markers = [];
  const place = (time) => {
    const at = Date.parse(time) - startedAt;
    return Number.isFinite(at) && at >= 0 && at <= durationMs ? at : null;
  };
  for (const line of Array.isArray(detail.transcript) ? detail.transcript : []) {
    const at = place(line.time);
    if (at === null) continue;
    const role = line.role === 'assistant' ? 'assistant' : 'caller';
    const who = role === 'assistant' ? 'Assistant' : 'Caller';
    markers.push({ kind: 'line', role, atMs: at, title: `${who}: ${clipped(typeof line.text === 'string' ? line.text : '')}` });
  }
  for (const b of Array.isArray(detail.barge_ins) ? detail.barge_ins : []) {
    const at = place(b.time);
    if (at === null) continue;
    const heard = typeof b.audio_end_ms === 'number' && b.audio_end_ms >= 0 ? b.audio_end_ms : 0;
    const seconds = (heard / 1000).toFixed(2);
    markers.push({ kind: 'barge', atMs: at, title: `Caller barged in · assistant cut at ${seconds} s` });
    markers.push({
      kind: 'truncate', atMs: at, fromMs: Math.max(0, at - heard),
      title: `Truncated at ${seconds} s: the part of the cut turn the caller heard, up to the clear`,
    });
  }
  return markers.sort((a, b) => a.atMs - b.atMs);
}

// Per canvas column, the lowest and highest sample of the samples it covers.
export function channelPeaks(samples, columns) {
  const low = new Float32Array(columns);
  const high = new Float32Array(columns);
  const perColumn = samples.length / columns;
  for (let c = 0; c < columns; c++) {
    const from = Math.floor(c * perColumn);
    const to = Math.min(samples.length, Math.max(from + 1, Math.floor((c + 1) * perColumn)));
    let lo = 0;
    let hi = 0;
    for (let i = from; i < to; i++) {
      const v = samples[i];
      if (v < lo) lo = v;
      else if (v > hi) hi = v;
    }
    low[c] = lo;
    high[c] = hi;
  }
  return { low, high };
}

// One channel's peaks in the band [top, top + height) of the canvas: a baseline, then one bar per
// column. Scaled to the channel's own loudest peak (a quiet phone line stays readable), but never by
// more than 32×, so that line noise stays small.
export function drawChannel(context, peaks, { top, height, color, baseline }) {
  const middle = top + height / 2;
  const columns = peaks.low.length;
  let loudest = 0;
  for (let c = 0; c < columns; c++) loudest = Math.max(loudest, -peaks.low[c], peaks.high[c]);
  const scale = (height / 2 - 2) / Math.max(loudest, 1 / 32);
  context.fillStyle = baseline;
  context.fillRect(0, Math.floor(middle), columns, 1);
  context.fillStyle = color;
  for (let c = 0; c < columns; c++) {
    if (peaks.low[c] === 0 && peaks.high[c] === 0) continue;
    const y0 = Math.floor(middle - peaks.high[c] * scale);
    const y1 = Math.ceil(middle - peaks.low[c] * scale);
    context.fillRect(c, y0, 1, Math.max(1, y1 - y0));
  }
}

// The decoded recording and its playback through an AudioContext made on the first play (a click:
// browsers start audio only after a gesture). Times are ms from WAV sample 0.
export class RecordingPlayback {
  constructor(buffer) {
    this.buffer = buffer;
    this.context = null;
    this.source = null;
    this.startedAtContextTime = null; // the context's time when the source started; null until then
    this.offsetMs = 0;
    this.onEnded = null;
  }

  // Decoded at the WAV's own rate (no resampling: the waveform is the file's samples and a long call
  // takes the least memory). Rejects when the bytes are not audio Web Audio can decode.
  static async decode(bytes) {
    const rate = wavSampleRate(bytes) || 8000;
    const decoder = new OfflineAudioContext(2, 1, rate);
    return new RecordingPlayback(await decoder.decodeAudioData(bytes));
  }

  get durationMs() {
    return (this.buffer.length / this.buffer.sampleRate) * 1000;
  }

  get playing() {
    return this.source !== null;
  }

  get positionMs() {
    if (!this.source || this.startedAtContextTime === null) return this.offsetMs;
    const elapsed = (this.context.currentTime - this.startedAtContextTime) * 1000;
    return Math.min(this.durationMs, this.offsetMs + elapsed);
  }

  async play() {
    if (this.source) return;
    if (!this.context) this.context = new AudioContext();
    if (this.offsetMs >= this.durationMs) this.offsetMs = 0;
    const source = this.context.createBufferSource();
    source.buffer = this.buffer;
    source.connect(this.context.destination);
    source.onended = () => {
      if (this.source !== source) return; // stopped by pause or seek, not by the end of the audio
      this.source = null;
      this.offsetMs = this.durationMs;
      if (this.onEnded) this.onEnded();
    };
    this.source = source;
    this.startedAtContextTime = null;
    await this.context.resume();
    if (this.source !== source) return; // paused while the context was resuming
    this.startedAtContextTime = this.context.currentTime;
    source.start(0, this.offsetMs / 1000);
  }

  pause() {
    if (!this.source) return;
    this.offsetMs = this.positionMs;
    this.stopSource();
  }

  seek(ms) {
    const wasPlaying = this.playing;
    this.stopSource();
    this.offsetMs = Math.min(Math.max(0, ms), this.durationMs);
    if (wasPlaying) this.play();
  }

  close() {
    this.stopSource();
    if (this.context) this.context.close().catch(() => {});
    this.context = null;
  }

  stopSource() {
    const source = this.source;
    this.source = null;
    if (!source) return;
    try {
      source.stop();
    } catch {
      // never started: paused before the context resumed
    }
    source.disconnect();
  }
}
