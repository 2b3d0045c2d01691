// The softphone's audio thread (AudioWorkletGlobalScope): two processors.
//
// mb-capture: microphone at the AudioContext's rate → low-pass at 3.4 kHz → 8 kHz → μ-law, posted to
//   the page as 160-byte frames (20 ms), which the page sends as Twilio `media` messages.
// mb-player: a queue of assistant audio (already at the context's rate) and marks. A mark is reported
//   back once every sample queued before it has been played, as Twilio echoes marks (protocols.md B5).
//
// `sampleRate` and `registerProcessor` are globals of the worklet scope.

const FRAME_SAMPLES = 160; // 20 ms at 8 kHz, Twilio's cadence
const OUTPUT_RATE = 8000;

// G.711 μ-law of a 16-bit sample (the classic bias-and-segment form).
function linearToUlaw(sample) {
  let s = sample;
  const sign = s < 0 ? 0x80 : 0;
  if (sign) s = -s;
  if (s > 32635) s = 32635;
  s += 0x84;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

// A second-order low-pass section (RBJ cookbook), run in direct form II transposed.
class Biquad {
  constructor(cutoff, q, rate) {
    const w = (2 * Math.PI * cutoff) / rate;
    const alpha = Math.sin(w) / (2 * q);
    const cos = Math.cos(w);
    const a0 = 1 + alpha;
    this.b0 = (1 - cos) / 2 / a0;
    this.b1 = (1 - cos) / a0;
    this.b2 = this.b0;
    this.a1 = (-2 * cos) / a0;
    this.a2 = (1 - alpha) / a0;
    this.z1 = 0;
    this.z2 = 0;
  }
  run(x) {
    const y = this.b0 * x + this.z1;
    this.z1 = this.b1 * x - this.a1 * y + this.z2;
    this.z2 = this.b2 * x - this.a2 * y;
    return y;
  }
}

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    // Eighth-order Butterworth at 3.4 kHz (four sections): what lies above 4 kHz would fold back into
    // the band at 8 kHz; this takes 6 kHz down by ~40 dB and leaves the voice band flat.
    this.filters = [0.5098, 0.6013, 0.9, 2.5629].map((q) => new Biquad(3400, q, sampleRate));
    this.step = sampleRate / OUTPUT_RATE; // input samples per output sample: 6 at 48 kHz, 5.5125 at 44.1 kHz
    this.phase = 1; // where the next output sample falls, in input samples after the previous one
    this.previous = 0;
    this.frame = new Uint8Array(FRAME_SAMPLES);
    this.fill = 0;
    this.energy = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true; // no microphone data in this quantum (not started yet, or ended)
    for (let i = 0; i < channel.length; i++) {
      let y = channel[i];
      for (const f of this.filters) y = f.run(y);
      // Linear interpolation between the previous and this filtered sample at each 8 kHz instant.
      while (this.phase <= 1) {
        const v = this.previous + (y - this.previous) * this.phase;
        this.emit(v);
        this.phase += this.step;
      }
      this.phase -= 1;
      this.previous = y;
    }
    return true;
  }

  emit(v) {
    const clipped = Math.max(-1, Math.min(1, v));
    this.energy += clipped * clipped;
    this.frame[this.fill++] = linearToUlaw(Math.round(clipped * 32767));
    if (this.fill < FRAME_SAMPLES) return;
    const level = Math.sqrt(this.energy / FRAME_SAMPLES);
    this.port.postMessage({ frame: this.frame, level }, [this.frame.buffer]);
    this.frame = new Uint8Array(FRAME_SAMPLES);
    this.fill = 0;
    this.energy = 0;
  }
}

class PlayerProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = []; // {samples: Float32Array, offset} or {mark: name}, in arrival order
    this.queued = 0; // samples waiting
    this.played = 0; // samples played since the start
    this.energy = 0;
    this.energySamples = 0;
    this.port.onmessage = (event) => this.receive(event.data);
  }

  receive(message) {
    if (message.type === 'audio') {
      this.queue.push({ samples: message.samples, offset: 0 });
      this.queued += message.samples.length;
    } else if (message.type === 'mark') {
      this.queue.push({ mark: message.name });
      this.reportMarks(); // nothing buffered before it: echoed at once, as Twilio does
    } else if (message.type === 'clear') {
      // The page echoes the pending marks itself; dropping them here keeps them from a second echo.
      this.queue = [];
      this.queued = 0;
    }
  }

  // Marks at the head of the queue have had all the audio before them played.
  reportMarks() {
    while (this.queue.length > 0 && this.queue[0].mark !== undefined) {
      this.port.postMessage({ type: 'played', name: this.queue.shift().mark });
    }
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    let written = 0;
    while (written < out.length) {
      this.reportMarks();
      const head = this.queue[0];
      if (!head) break;
      const n = Math.min(out.length - written, head.samples.length - head.offset);
      out.set(head.samples.subarray(head.offset, head.offset + n), written);
      for (let i = written; i < written + n; i++) this.energy += out[i] * out[i];
      head.offset += n;
      written += n;
      this.queued -= n;
      this.played += n;
      if (head.offset === head.samples.length) this.queue.shift();
    }
    this.reportMarks();
    out.fill(0, written); // an underrun plays silence
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    this.energySamples += out.length;
    if (this.energySamples >= sampleRate / 20) {
      this.port.postMessage({
        type: 'level',
        level: Math.sqrt(this.energy / this.energySamples),
        played: this.played,
        queued: this.queued,
      });
      this.energy = 0;
      this.energySamples = 0;
    }
    return true;
  }
}

registerProcessor('mb-capture', CaptureProcessor);
registerProcessor('mb-player', PlayerProcessor);
