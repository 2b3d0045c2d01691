// The browser softphone: the page plays Twilio's part of a Media Stream (protocols.md B), so the bridge
// runs exactly the call it runs for a phone.
//
// 1. POST /v1/softphone/calls (API token in the Authorization header) → {call_sid, stream_url,
//    stream_token}. A browser cannot set headers on a WebSocket upgrade: the stream URL carries the API
//    token in its query (as the events socket does), and start.customParameters.mb_stream_token the
//    single-use token that binds the stream to this call.
// 2. Microphone → AudioWorklet (softphone-worklet.js: low-pass, 8 kHz, μ-law) → `media` every 20 ms.
// 3. Assistant `media` → μ-law decoded → resampled to the AudioContext's rate → the player worklet's
//    queue. Each `mark` is echoed once the audio queued before it has played; `clear` drops the queue
//    and echoes every pending mark at once (B5), which is what makes barge-in exact.
//
// Counters for tests and the curious: window.mbSoftphone (see `stats` below).

const WORKLET_URL = '/static/softphone-worklet.js';
const MAX_BUFFERED_BYTES = 64 * 1024; // a stalled socket drops microphone frames instead of queueing them

// μ-law code → linear sample in [-1, 1).
const ULAW_TO_FLOAT = (() => {
  const table = new Float32Array(256);
  for (let code = 0; code < 256; code++) {
    const u = ~code & 0xff;
    const exponent = (u >> 4) & 0x07;
    const mantissa = u & 0x0f;
    const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    table[code] = ((u & 0x80) ? -magnitude : magnitude) / 32768;
  }
  return table;
})();

function randomHex(bytes) {
  const values = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(values, (b) => b.toString(16).padStart(2, '0')).join('');
}

function toBase64(bytes) {
  let text = '';
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
  return btoa(text);
}

function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// 8 kHz → the context's rate by linear interpolation, continuous across chunks. Telephone audio has
// nothing above 4 kHz worth keeping, and the images interpolation leaves are far below the tone's level.
class Upsampler {
  constructor(inputRate, outputRate) {
    this.step = inputRate / outputRate;
    this.position = 0; // of the next output sample; 0 is the previous chunk's last sample
    this.previous = 0;
  }

  run(input) {
    const n = input.length;
    const out = new Float32Array(Math.max(0, Math.floor((n - this.position) / this.step) + 1));
    let count = 0;
    let p = this.position;
    while (p <= n && count < out.length) {
      const i = Math.floor(p);
      const frac = p - i;
      const a = i === 0 ? this.previous : input[i - 1];
      const b = frac > 0 ? input[i] : a;
      out[count++] = a + (b - a) * frac;
      p += this.step;
    }
    this.position = p - n;
    this.previous = n > 0 ? input[n - 1] : this.previous;
    return out.subarray(0, count);
  }
}

export class Softphone extends EventTarget {
  // authHeaders(): the headers that authorise REST calls (Authorization: Bearer …, or none).
  // apiToken(): the same credential for the stream's upgrade ('' or null: none, on a local server).
  constructor({ authHeaders, apiToken }) {
    super();
    this.authHeaders = authHeaders;
    this.apiToken = apiToken;
    this.state = 'idle'; // idle → connecting → in-call → ended | failed
    this.muted = false;
    this.stats = Softphone.freshStats();
    window.mbSoftphone = this.stats;
  }

  static freshStats() {
    return {
      state: 'idle',
      callSid: null,
      framesSent: 0, // media messages sent (20 ms each)
      decodedSamples: 0, // assistant μ-law samples decoded (8 kHz)
      playedSamples: 0, // samples the player has played (context rate)
      marksReceived: 0,
      marksEchoed: 0,
      clears: 0,
      closeCode: null,
      closeReason: '',
      error: '',
    };
  }

  get active() {
    return this.state === 'connecting' || this.state === 'in-call';
  }

  async start() {
    if (this.active) return;
    Object.assign(this.stats, Softphone.freshStats());
    this.muted = false;
    this.pendingMarks = [];
    this.sequence = 0;
    this.chunk = 0;
    this.setState('connecting', 'Connecting…');
    if (!window.isSecureContext || !navigator.mediaDevices || !window.AudioWorkletNode) {
      this.fail('The microphone needs a secure page: open the dashboard over https, or at http://localhost.');
      return;
    }
    // Created in the click's task, so that the browser lets it play sound.
    const context = new AudioContext({ latencyHint: 'interactive' });
    this.context = context;
    try {
      const [call] = await Promise.all([this.createCall(), context.audioWorklet.addModule(WORKLET_URL)]);
      if (this.state !== 'connecting') return; // hung up meanwhile
      this.call = call;
      this.stats.callSid = call.call_sid;
      this.microphone = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
      if (this.state !== 'connecting') return this.release();
      this.buildGraph();
      await context.resume();
      this.openStream();
    } catch (error) {
      this.fail(describe(error));
    }
  }

  async createCall() {
    const response = await fetch('/v1/softphone/calls', { method: 'POST', headers: this.authHeaders(), cache: 'no-store' });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new Error(body.error ? `The server refused the call: ${body.error}` : `The server refused the call (HTTP ${response.status})`);
    }
    return response.json();
  }

  buildGraph() {
    const context = this.context;
    this.source = context.createMediaStreamSource(this.microphone);
    this.capture = new AudioWorkletNode(context, 'mb-capture', { numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1] });
    // The capture node only needs to be pulled by the graph; a muted gain keeps it out of the speakers.
    this.sink = context.createGain();
    this.sink.gain.value = 0;
    this.source.connect(this.capture).connect(this.sink).connect(context.destination);
    this.player = new AudioWorkletNode(context, 'mb-player', { numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [2] });
    this.player.connect(context.destination);
    this.upsampler = new Upsampler(8000, context.sampleRate);
    this.capture.port.onmessage = (event) => this.onFrame(event.data);
    this.player.port.onmessage = (event) => this.onPlayer(event.data);
  }

  openStream() {
    this.streamSid = `MZ${randomHex(16)}`;
    this.accountSid = `AC${randomHex(16)}`;
    const url = new URL(this.call.stream_url);
    const token = this.apiToken();
    if (token) url.searchParams.set('token', token); // WebSocket upgrades cannot carry headers
    const socket = new WebSocket(url.href);
    this.socket = socket;
    socket.onopen = () => {
      this.send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
      this.send({
        event: 'start',
        sequenceNumber: this.nextSequence(),
        streamSid: this.streamSid,
        start: {
          streamSid: this.streamSid,
          accountSid: this.accountSid,
          callSid: this.call.call_sid,
          tracks: ['inbound'],
          customParameters: {
            CallSid: this.call.call_sid,
            From: 'softphone',
            To: 'agent',
            mb_stream_token: this.call.stream_token,
          },
          mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        },
      });
      this.startedAt = performance.now();
      this.setState('in-call', 'In call with the agent');
    };
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return; // the bridge sends JSON only; anything else is not ours to play
      }
      this.receive(message);
    };
    socket.onclose = (event) => {
      this.stats.closeCode = event.code;
      this.stats.closeReason = event.reason;
      if (this.state === 'connecting') this.fail(event.reason || 'The bridge refused the stream.');
      else if (this.state === 'in-call') this.end(event.reason ? `Call ended: ${event.reason}` : 'Call ended');
    };
  }

  nextSequence() {
    this.sequence += 1;
    return String(this.sequence);
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  onFrame({ frame, level }) {
    this.emit('level', { source: 'mic', level: this.muted ? 0 : level });
    if (this.state !== 'in-call' || this.socket.bufferedAmount > MAX_BUFFERED_BYTES) return;
    if (this.muted) frame.fill(0xff); // μ-law silence: Twilio keeps streaming while a caller is muted
    this.chunk += 1;
    this.send({
      event: 'media',
      sequenceNumber: this.nextSequence(),
      streamSid: this.streamSid,
      media: { track: 'inbound', chunk: String(this.chunk), timestamp: String((this.chunk - 1) * 20), payload: toBase64(frame) },
    });
    this.stats.framesSent += 1;
  }

  receive(message) {
    if (!this.player) return; // hung up: nothing plays any more
    switch (message.event) {
      case 'media': {
        const payload = message.media && message.media.payload;
        if (typeof payload !== 'string') return;
        const codes = fromBase64(payload);
        const linear = new Float32Array(codes.length);
        for (let i = 0; i < codes.length; i++) linear[i] = ULAW_TO_FLOAT[codes[i]];
        this.stats.decodedSamples += codes.length;
        const samples = this.upsampler.run(linear);
        this.player.port.postMessage({ type: 'audio', samples }, [samples.buffer]);
        break;
      }
      case 'mark': {
        const name = message.mark && message.mark.name;
        if (typeof name !== 'string') return;
        this.stats.marksReceived += 1;
        this.pendingMarks.push(name);
        this.player.port.postMessage({ type: 'mark', name });
        break;
      }
      case 'clear': {
        this.stats.clears += 1;
        this.player.port.postMessage({ type: 'clear' });
        // Twilio echoes every pending mark when the buffer is cleared: at once, not after playing.
        const pending = this.pendingMarks;
        this.pendingMarks = [];
        for (const name of pending) this.echoMark(name);
        this.emit('clear', {});
        break;
      }
      default:
        break; // Twilio's protocol has no other message to a caller
    }
  }

  onPlayer(message) {
    if (message.type === 'played') {
      // Marks the page already echoed on a clear are no longer pending: no second echo.
      const index = this.pendingMarks.indexOf(message.name);
      if (index < 0) return;
      this.pendingMarks.splice(index, 1);
      this.echoMark(message.name);
    } else if (message.type === 'level') {
      this.stats.playedSamples = message.played;
      this.emit('level', { source: 'speaker', level: message.level });
    }
  }

  echoMark(name) {
    this.send({ event: 'mark', sequenceNumber: this.nextSequence(), streamSid: this.streamSid, mark: { name } });
    this.stats.marksEchoed += 1;
  }

  setMuted(muted) {
    this.muted = muted;
    this.emit('state', { state: this.state, detail: this.detail });
  }

  hangUp() {
    if (!this.active) return;
    if (this.state === 'in-call') {
      this.send({
        event: 'stop',
        sequenceNumber: this.nextSequence(),
        streamSid: this.streamSid,
        stop: { accountSid: this.accountSid, callSid: this.call.call_sid },
      });
    }
    this.end('You hung up');
  }

  end(detail) {
    this.release();
    this.setState('ended', detail);
  }

  fail(detail) {
    this.stats.error = detail;
    this.release();
    this.setState('failed', detail);
  }

  release() {
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.onmessage = null;
      if (this.socket.readyState <= WebSocket.OPEN) this.socket.close(1000, 'hang up');
      this.socket = null;
    }
    if (this.microphone) this.microphone.getTracks().forEach((track) => track.stop());
    this.microphone = null;
    if (this.context && this.context.state !== 'closed') this.context.close().catch(() => {});
    this.context = null;
    this.capture = null;
    this.player = null;
  }

  setState(state, detail) {
    this.state = state;
    this.detail = detail;
    this.stats.state = state;
    this.emit('state', { state, detail });
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

function describe(error) {
  if (error && error.name === 'NotAllowedError') return 'Microphone access was denied. Allow it in the address bar and try again.';
  if (error && error.name === 'NotFoundError') return 'No microphone was found.';
  return (error && error.message) || String(error);
}

// For tests/browser/softphone-dsp.test.mjs.
export { Upsampler, ULAW_TO_FLOAT };
