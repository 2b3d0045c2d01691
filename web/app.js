// The mediabridge dashboard (docs/dashboard.md): sign-in, live calls from the listener WebSocket
// (/v1/events) with the operator's controls (/v1/calls/{sid}/hangup, /transfer, /messages), call
// history from the REST API (/v1/calls), outbound campaigns (/v1/campaigns), the providers' probe results
// (/v1/probes, charts drawn by the vendored uPlot: web/vendor/README.md), a stored call's recording
// (/v1/calls/{sid}/recording.wav, recording.js), and the browser softphone.
//
// The API token lives in this tab's sessionStorage. REST requests carry it in the Authorization header;
// only the WebSockets (events, softphone stream), which cannot carry headers, have it in their query
// string (the server logs paths only). It never appears in the page's own address.

import { RECORDING_MAX_BYTES, RecordingPlayback, channelPeaks, drawChannel, recordingMarkers } from './recording.js';
import { Softphone } from './softphone.js';

const TOKEN_KEY = 'mediabridge.token';
const ENDED_KEPT = 12; // ended calls the live list keeps showing
const HISTORY_PAGE = 25;
const WIRE_KEPT = 300; // wire events the raw event panel keeps per call
const MESSAGE_MAX = 2000; // characters of an operator's message (POST /v1/calls/{sid}/messages)
const CAMPAIGN_POLL_MS = 1500;
const CSV_MAX_BYTES = 60 * 1024; // a request body is at most 64 KiB (the CSV travels JSON-escaped)
const WATERFALL_KEPT = 200; // turn.latency events a live call keeps for its waterfall
const PROBE_POLL_MS = 15000;
const PROBE_RUNS_LIMIT = 200; // runs asked of GET /v1/probes (the server allows 1000)
const PROBE_RUNS_SHOWN = 50; // of the selected provider, in the latest runs table

const $ = (id) => document.getElementById(id);

const state = {
  token: null, // null: signed out; '': a server without API_TOKEN (loopback)
  view: 'live',
  calls: new Map(), // call_sid → live call model, from the event feed
  selected: null, // call_sid shown in the live view
  follow: null, // the softphone's call: selected as soon as it starts
  feed: { socket: null, retryMs: 1000, timer: null, opened: false },
  history: { rows: [], cursor: null, query: '', selected: null, loaded: false, stale: true, player: null },
  agents: [], // GET /v1/agents: {name, default, transfers: [names]}
  agentsLoadedAt: 0,
  campaigns: { list: [], selected: null, detail: null, timer: null },
  probes: { body: null, problem: '', selected: null, timer: null, charts: [] },
};

// ---------------------------------------------------------------------------------------------------
// Small DOM helpers. Text always goes in as textContent: transcripts are untrusted input.

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

const ICONS = {
  bolt: 'M13 2 4 14h7l-1 8 9-12h-7z',
  clock: 'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 2.2a7.8 7.8 0 1 1 0 15.6 7.8 7.8 0 0 1 0-15.6zM11 7v6.3l4.6 2.8 1-1.6-3.6-2.2V7z',
  cut: 'M6 4a3 3 0 1 0 2.8 4.1L11 10l-2.2 1.9A3 3 0 1 0 10 14l10-9h-3l-4.6 4-3.1-2.6A3 3 0 0 0 6 4zm0 2a1 1 0 1 1 0 2 1 1 0 0 1 0-2zm0 10a1 1 0 1 1 0 2 1 1 0 0 1 0-2zm8-2 6 5h-3l-4.3-3.6z',
  phone: 'M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.46.57 3.6a1 1 0 0 1-.25 1z',
  tool: 'M22.7 19 13.6 9.9c.9-2.3.4-5-1.5-6.9-2-2-5-2.4-7.4-1.3L9 6 6 9 1.6 4.7C.4 7.1.9 10.1 2.9 12.1c1.9 1.9 4.6 2.4 6.9 1.5l9.1 9.1c.4.4 1 .4 1.4 0l2.3-2.3c.5-.4.5-1.1.1-1.4z',
  control: 'M16 3l5 5-5 5v-3H4V6h12zM8 11v3h12v4H8v3l-5-5z',
  chart: 'M3 3h2v16h16v2H3zm4 9h3v5H7zm5-6h3v11h-3zm5 3h3v8h-3z',
  play: 'M8 5v14l11-7z',
  pause: 'M6 5h4v14H6zm8 0h4v14h-4z',
  keypad: 'M6 3a2 2 0 1 0 0 4 2 2 0 0 0 0-4zm6 0a2 2 0 1 0 0 4 2 2 0 0 0 0-4zm6 0a2 2 0 1 0 0 4 2 2 0 0 0 0-4zM6 10a2 2 0 1 0 0 4 2 2 0 0 0 0-4zm6 0a2 2 0 1 0 0 4 2 2 0 0 0 0-4zm6 0a2 2 0 1 0 0 4 2 2 0 0 0 0-4zm-6 7a2 2 0 1 0 0 4 2 2 0 0 0 0-4z',
};

function icon(name, size = 14) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', String(size));
  svg.setAttribute('height', String(size));
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', ICONS[name]);
  path.setAttribute('fill', 'currentColor');
  path.setAttribute('fill-rule', 'evenodd'); // rings (the clock) are a shape with a hole
  svg.append(path);
  return svg;
}

function pill(text, kind) {
  return el('span', `pill pill-${kind}`, text);
}

// A call that OpenAI took over SIP (call.started's transport): its audio never passed through this
// server, so the page has no audio facts for it. Null for a Media Streams call.
function transportPill(transport) {
  if (transport !== 'sip') return null;
  const badge = pill('SIP', 'sip');
  badge.title = 'OpenAI answered this call over SIP; this server watched it without its audio';
  return badge;
}

// The status pill, and the SIP badge when the call is one, side by side.
function callPills(status, transport) {
  const pills = el('span', 'call-pills');
  pills.append(status);
  const sip = transportPill(transport);
  if (sip) pills.append(sip);
  return pills;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function formatTime(ms) {
  return ms === null || ms === undefined || Number.isNaN(ms) ? '' : timeFormat.format(new Date(ms));
}

function formatDuration(ms) {
  if (ms === null || ms === undefined || ms < 0) return '–';
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

function formatSeconds(ms) {
  return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

function displayNumber(value) {
  return value || 'unknown';
}

const REASONS = {
  caller_hung_up: 'Caller hung up',
  hung_up: 'Hung up (agent or operator)',
  twilio_closed: 'Caller left',
  upstream_closed: 'Agent hung up',
  upstream_error: 'Agent error',
  upstream_connect_failed: 'Agent unreachable',
  format_mismatch: 'Audio format error',
  bad_media_format: 'Audio format error',
  bad_input: 'Refused',
  slow_peer: 'Network too slow',
  timeout: 'Timed out',
  shutdown: 'Server shutdown',
};

function reasonText(reason) {
  return REASONS[reason] || (reason ? reason.replace(/_/g, ' ') : 'Ended');
}

// ---------------------------------------------------------------------------------------------------
// Requests

function authHeaders(token = state.token) {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { ...authHeaders(), ...(options.headers || {}) }, cache: 'no-store' });
  if (response.status === 401) {
    signOut('Your token is no longer accepted. Sign in again.');
    throw new Error('unauthorised');
  }
  return response;
}

// ---------------------------------------------------------------------------------------------------
// Sign-in

async function probe(token) {
  try {
    const response = await fetch('/v1/calls?limit=1', { headers: authHeaders(token), cache: 'no-store' });
    // 503: authorised, but the server keeps no history.
    if (response.ok || response.status === 503) return { ok: true };
    if (response.status === 401) return { ok: false, message: 'That token was not accepted.' };
    if (response.status === 403)
      return { ok: false, message: 'This server has no API_TOKEN, so it serves the console only to its own machine (loopback).' };
    return { ok: false, message: `Unexpected answer from the server (HTTP ${response.status}).` };
  } catch {
    return { ok: false, message: 'The server cannot be reached.' };
  }
}

function showSignInError(message) {
  const box = $('signin-error');
  box.textContent = message;
  box.hidden = !message;
}

async function onSignIn(event) {
  event.preventDefault();
  const token = $('token').value.trim();
  const button = $('signin-button');
  button.disabled = true;
  button.textContent = 'Signing in…';
  showSignInError('');
  const result = await probe(token);
  button.disabled = false;
  button.textContent = 'Sign in';
  if (!result.ok) {
    showSignInError(result.message);
    $('token').select();
    return;
  }
  $('token').value = '';
  enter(token);
}

function enter(token) {
  state.token = token;
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify({ token }));
  $('signin').hidden = true;
  $('app').hidden = false;
  document.body.classList.add('signed-in');
  showView('live');
  connectFeed();
  state.agentsLoadedAt = Date.now();
  loadAgents();
}

function signOut(message = '') {
  if (state.token === null) return;
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  softphone.hangUp();
  closeFeed();
  state.calls.clear();
  state.selected = null;
  closeRecordingPlayer();
  state.history = { rows: [], cursor: null, query: '', selected: null, loaded: false, stale: true, player: null };
  stopCampaignPolling();
  state.campaigns = { list: [], selected: null, detail: null, timer: null };
  renderRejected([]);
  showCampaignError('');
  stopProbePolling();
  destroyCharts();
  state.probes = { body: null, problem: '', selected: null, timer: null, charts: [] };
  state.agents = [];
  $('app').hidden = true;
  $('signin').hidden = false;
  document.body.classList.remove('signed-in');
  showSignInError(message);
  $('token').focus();
}

async function boot() {
  $('signin-form').addEventListener('submit', onSignIn);
  $('signout').addEventListener('click', () => signOut());
  $('tab-live').addEventListener('click', () => showView('live'));
  $('tab-history').addEventListener('click', () => showView('history'));
  $('history-filters').addEventListener('submit', (event) => {
    event.preventDefault();
    loadHistory(true);
  });
  $('f-reset').addEventListener('click', () => {
    $('f-number').value = '';
    $('f-since').value = '';
    $('f-until').value = '';
    loadHistory(true);
  });
  $('history-more').addEventListener('click', () => loadHistory(false));
  $('tab-campaigns').addEventListener('click', () => showView('campaigns'));
  $('campaign-form').addEventListener('submit', startCampaign);
  $('c-file').addEventListener('change', readCsvFile);
  $('tab-providers').addEventListener('click', () => showView('providers'));
  wireProviders();
  wireSoftphone();
  setInterval(tick, 1000);
  renderLive();

  // A token from earlier in this tab, else a server without API_TOKEN that admits this (loopback) client.
  let stored = null;
  try {
    stored = JSON.parse(sessionStorage.getItem(TOKEN_KEY) || 'null');
  } catch {
    stored = null;
  }
  if (stored && typeof stored.token === 'string') {
    const result = await probe(stored.token);
    if (result.ok) return enter(stored.token);
    sessionStorage.removeItem(TOKEN_KEY);
  }
  const open = await probe('');
  if (open.ok) return enter('');
  $('token').focus();
}

function showView(view) {
  state.view = view;
  for (const name of ['live', 'history', 'campaigns', 'providers']) {
    $(`view-${name}`).hidden = view !== name;
    $(`tab-${name}`).classList.toggle('active', view === name);
  }
  if (view === 'history' && state.history.stale) loadHistory(true);
  if (view === 'campaigns') {
    loadCampaigns();
    if (state.campaigns.selected) pollCampaign(state.campaigns.selected);
    else renderPlaceholder($('campaign-detail'), 'No campaign selected', 'Start one with the form, or pick one on the left.');
  } else {
    stopCampaignPolling();
  }
  if (view === 'providers') loadProbes();
  else stopProbePolling();
  if (view !== 'history' && state.history.player) state.history.player.pause();
  if (view === 'live') renderLive();
}

// ---------------------------------------------------------------------------------------------------
// The live event feed

function setFeedStatus(text, kind) {
  const status = $('feed-status');
  status.textContent = text;
  status.className = `pill pill-${kind}`;
}

function connectFeed() {
  closeFeed();
  const url = new URL('/v1/events', window.location.href);
  url.protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  if (state.token) url.searchParams.set('token', state.token); // WebSocket upgrades cannot carry headers
  const socket = new WebSocket(url.href);
  state.feed.socket = socket;
  state.feed.opened = false;
  setFeedStatus('Connecting…', 'muted');
  socket.onopen = () => {
    state.feed.opened = true;
    state.feed.retryMs = 1000;
    setFeedStatus('Live', 'live');
    // The server replays every running call from its start: rebuild them rather than append twice.
    for (const [sid, call] of state.calls) if (!call.endedAt) state.calls.delete(sid);
    renderLive();
  };
  socket.onmessage = (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    onEvent(message);
  };
  socket.onclose = () => {
    if (state.feed.socket !== socket) return;
    state.feed.socket = null;
    setFeedStatus('Reconnecting…', 'warn');
    // Refused before opening: perhaps the token was revoked (api() signs out on 401).
    if (!state.feed.opened) api('/v1/calls?limit=1').catch(() => {});
    state.feed.timer = setTimeout(() => {
      if (state.token !== null) connectFeed();
    }, state.feed.retryMs);
    state.feed.retryMs = Math.min(state.feed.retryMs * 2, 15000);
  };
}

function closeFeed() {
  clearTimeout(state.feed.timer);
  const socket = state.feed.socket;
  state.feed.socket = null;
  if (socket) socket.close(1000);
}

function newCall(sid) {
  return {
    sid,
    from: '',
    to: '',
    agent: '',
    transport: 'media-stream',
    startedAt: null,
    endedAt: null,
    reason: '',
    durationMs: null,
    entries: [], // turns, barge-ins, DTMF, tool calls and call control in the order the call reported them
    turns: new Map(), // item_id → turn entry
    tools: new Map(), // tool_call_id → tool entry
    wire: [], // the last WIRE_KEPT wire events (WIRE_EVENTS): {at, direction, type, bytes}
    latencyTurns: [], // the last WATERFALL_KEPT turn.latency events, as latencyTurnOf makes them
  };
}

function timeOf(event) {
  const t = Date.parse(event.time);
  return Number.isNaN(t) ? Date.now() : t;
}

// The latency of an assistant turn: from the caller's last transcribed words of the turn it answers
// to the assistant's first words, as the bridge saw them. Unknown when no caller transcript preceded it.
function latencyFor(call, at) {
  for (let i = call.entries.length - 1; i >= 0; i--) {
    const entry = call.entries[i];
    if (entry.kind !== 'turn') continue;
    if (entry.role === 'assistant') return null;
    return Math.max(0, at - entry.lastAt);
  }
  return null;
}

// What the caller heard of a cut assistant turn, from a transcript.final event or a stored line (lines
// stored before heard_text was kept have none).
function heardOf(line) {
  return {
    heardMs: typeof line.heard_ms === 'number' ? line.heard_ms : null,
    heardText: typeof line.heard_text === 'string' ? line.heard_text : null,
    heardTextEstimated: line.heard_text_estimated === true,
  };
}

function turnOf(call, event, at) {
  let turn = call.turns.get(event.item_id);
  if (turn) return turn;
  turn = {
    kind: 'turn',
    role: event.role === 'assistant' ? 'assistant' : 'caller',
    itemId: event.item_id,
    text: '',
    partial: true,
    interrupted: false,
    heardMs: null,
    heardText: null,
    heardTextEstimated: false,
    at,
    lastAt: at,
    latencyMs: null,
  };
  if (turn.role === 'assistant') turn.latencyMs = latencyFor(call, at);
  call.turns.set(event.item_id, turn);
  call.entries.push(turn);
  return turn;
}

function onEvent(event) {
  if (!event || typeof event.call_sid !== 'string') return;
  const at = timeOf(event);
  let call = state.calls.get(event.call_sid);
  if (!call) {
    call = newCall(event.call_sid);
    call.startedAt = at;
    state.calls.set(event.call_sid, call);
  }
  switch (event.type) {
    case 'call.started':
      call.from = event.from || '';
      call.to = event.to || '';
      call.agent = event.agent || '';
      call.transport = event.transport || 'media-stream';
      call.startedAt = at;
      if (!state.agents.some((a) => a.name === (call.agent || 'default'))) loadAgentsSoon();
      if (state.follow === call.sid || (!state.selected && state.view === 'live')) state.selected = call.sid;
      break;
    case 'transcript.delta': {
      const turn = turnOf(call, event, at);
      if (turn.partial) turn.text += event.text || '';
      turn.lastAt = at;
      break;
    }
    case 'transcript.final': {
      const turn = turnOf(call, event, at);
      turn.text = event.text || turn.text;
      turn.partial = false;
      turn.interrupted = Boolean(event.interrupted);
      Object.assign(turn, heardOf(event));
      turn.lastAt = at;
      break;
    }
    case 'barge_in':
      call.entries.push({ kind: 'barge', itemId: event.item_id, audioEndMs: event.audio_end_ms, at });
      break;
    case 'dtmf':
      call.entries.push({ kind: 'dtmf', digit: event.masked ? '•' : event.digit, at });
      break;
    case 'dtmf.input':
    case 'tool.call':
    case 'tool.result':
    case 'call.control':
      addActivity(call, event, at);
      break;
    case 'turn.latency':
      call.latencyTurns.push(latencyTurnOf(event));
      if (call.latencyTurns.length > WATERFALL_KEPT) call.latencyTurns.splice(0, call.latencyTurns.length - WATERFALL_KEPT);
      break;
    case 'wire':
      call.wire.push({ at, direction: String(event.direction || ''), type: String(event.message_type || ''), bytes: event.bytes });
      if (call.wire.length > WIRE_KEPT) call.wire.splice(0, call.wire.length - WIRE_KEPT);
      scheduleWireRender(call);
      return; // one per message: only the raw event panel changes
    case 'call.ended':
      call.endedAt = at;
      call.reason = event.reason || '';
      call.durationMs = typeof event.duration_ms === 'number' ? event.duration_ms : at - call.startedAt;
      state.history.stale = true;
      if (state.view === 'history') loadHistory(true);
      pruneEnded();
      break;
    default:
      return; // a newer server's event type: nothing to show
  }
  renderLive();
}

// DTMF strings, tool calls and their results, and call control, as timeline entries (live events and
// stored ones share these shapes: call/event_json.cpp).
function addActivity(call, event, at) {
  switch (event.type) {
    case 'dtmf.input':
      call.entries.push({ kind: 'dtmf-input', digits: String(event.digits || ''), masked: event.masked === true, at });
      return;
    case 'tool.call': {
      const entry = { kind: 'tool', id: event.tool_call_id, name: String(event.name || ''), arguments: event.arguments, result: null, at };
      call.tools.set(event.tool_call_id, entry);
      call.entries.push(entry);
      return;
    }
    case 'tool.result': {
      let entry = call.tools.get(event.tool_call_id);
      if (!entry) {
        entry = { kind: 'tool', id: event.tool_call_id, name: String(event.name || ''), arguments: null, result: null, at };
        call.tools.set(event.tool_call_id, entry);
        call.entries.push(entry);
      }
      entry.result = {
        ok: event.ok === true,
        error: typeof event.error === 'string' ? event.error : '',
        output: event.output,
        latencyMs: typeof event.latency_ms === 'number' ? event.latency_ms : null,
      };
      return;
    }
    case 'call.control':
      call.entries.push({
        kind: 'control',
        action: String(event.action || ''),
        by: String(event.by || ''),
        status: String(event.status || ''),
        target: typeof event.target === 'string' ? event.target : '',
        detail: typeof event.detail === 'string' ? event.detail : '',
        at,
      });
      return;
    default:
  }
}

function pruneEnded() {
  const ended = [...state.calls.values()].filter((c) => c.endedAt).sort((a, b) => b.endedAt - a.endedAt);
  for (const call of ended.slice(ENDED_KEPT)) {
    state.calls.delete(call.sid);
    if (state.selected === call.sid) state.selected = null;
  }
}

// ---------------------------------------------------------------------------------------------------
// Rendering: the live view

function sortedCalls() {
  return [...state.calls.values()].sort((a, b) => {
    if (!a.endedAt !== !b.endedAt) return a.endedAt ? 1 : -1; // running calls first
    return (b.startedAt || 0) - (a.startedAt || 0);
  });
}

function callStats(call) {
  const turns = call.entries.filter((e) => e.kind === 'turn');
  const latencies = turns.map((t) => t.latencyMs).filter((v) => v !== null);
  return {
    turns: turns.length,
    bargeIns: call.entries.filter((e) => e.kind === 'barge').length,
    latency: latencies.length ? Math.round(latencies.reduce((a, b) => a + b, 0) / latencies.length) : null,
  };
}

function renderCallList() {
  const list = $('call-list');
  const calls = sortedCalls();
  list.replaceChildren();
  for (const call of calls) {
    const item = el('li', `call-item${call.sid === state.selected ? ' selected' : ''}${call.endedAt ? ' ended' : ''}`);
    item.tabIndex = 0;
    item.dataset.sid = call.sid;
    const top = el('div', 'call-item-top');
    top.append(el('span', 'call-number', displayNumber(call.from)));
    top.append(callPills(call.endedAt ? pill(reasonText(call.reason), 'muted') : pill('Live', 'live'), call.transport));
    const bottom = el('div', 'call-item-bottom');
    bottom.append(el('span', '', `to ${displayNumber(call.to)}${call.agent ? ` · ${call.agent}` : ''}`));
    bottom.append(el('span', 'call-duration', formatDuration(call.endedAt ? call.durationMs : Date.now() - call.startedAt)));
    item.append(top, bottom);
    const choose = () => {
      state.selected = call.sid;
      renderLive();
    };
    item.addEventListener('click', choose);
    item.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') choose();
    });
    list.append(item);
  }
  $('call-list-empty').hidden = calls.length > 0;
  const running = calls.filter((c) => !c.endedAt).length;
  $('live-count').textContent = String(running);
  $('live-count').classList.toggle('hot', running > 0);
}

function detailHeader(call, { live }) {
  const header = el('div', 'detail-header');
  const title = el('div', 'detail-title');
  const heading = el('h2', '', `${displayNumber(call.from)} `);
  heading.append(el('span', 'arrow', '→'), document.createTextNode(` ${displayNumber(call.to)}`));
  title.append(heading);
  if (live && !call.endedAt) title.append(pill('Live', 'live'));
  else title.append(pill(reasonText(call.reason), 'muted'));
  const sip = transportPill(call.transport);
  if (sip) title.append(sip);
  header.append(title);

  const facts = el('dl', 'facts');
  const fact = (label, value, className = '') => {
    const item = el('div', `fact ${className}`);
    item.append(el('dt', '', label), el('dd', '', value));
    facts.append(item);
  };
  const stats = call.stats || callStats(call);
  fact('Started', call.startedAt ? dateTimeFormat.format(new Date(call.startedAt)) : '–');
  fact('Duration', formatDuration(call.endedAt ? call.durationMs : Date.now() - call.startedAt), live && !call.endedAt ? 'ticking' : '');
  fact('Agent', call.agent || 'default');
  fact('Turns', String(stats.turns));
  fact('Barge-ins', String(stats.bargeIns));
  if (stats.latency !== undefined) fact('Avg. response', stats.latency === null ? '–' : `${stats.latency} ms`);
  header.append(facts);
  header.append(el('div', 'sid', call.sid));
  return header;
}

function renderTurn(entry) {
  const turn = el('div', `turn ${entry.role}${entry.partial ? ' partial' : ''}${entry.interrupted ? ' interrupted' : ''}`);
  const meta = el('div', 'turn-meta');
  meta.append(el('span', 'who', entry.role === 'assistant' ? 'Assistant' : 'Caller'));
  meta.append(el('time', '', formatTime(entry.at)));
  if (entry.latencyMs !== null && entry.latencyMs !== undefined) {
    const latency = el('span', 'latency');
    latency.title = "From the caller's last transcribed words to the assistant's first, as the bridge saw them";
    latency.append(icon('clock', 12), document.createTextNode(` ${entry.latencyMs} ms`));
    meta.append(latency);
  }
  turn.append(meta, renderBubble(entry));
  if (entry.interrupted) {
    const note = el('div', 'turn-note');
    let text = entry.heardMs !== null ? ` Interrupted · caller heard ${formatSeconds(entry.heardMs)}` : ' Interrupted';
    if (entry.heardText !== null && entry.heardTextEstimated) text += ' · heard words estimated';
    note.append(icon('cut', 12), document.createTextNode(text));
    turn.append(note);
  }
  return turn;
}

// A cut turn reads as the caller heard it: the heard words plain, the rest (generated, never played)
// struck through.
function renderBubble(entry) {
  const placeholder = entry.partial ? '…' : '(no words)';
  if (!entry.interrupted || entry.heardText === null) return el('div', 'bubble', entry.text || placeholder);
  const bubble = el('div', 'bubble');
  const heard = entry.heardText;
  const unheard = entry.text.startsWith(heard) ? entry.text.slice(heard.length) : entry.text;
  if (heard) bubble.append(el('span', 'heard', heard));
  if (unheard.trim()) {
    const gap = unheard.length - unheard.trimStart().length;  // the space between the parts is not struck
    if (heard && gap) bubble.append(document.createTextNode(unheard.slice(0, gap)));
    const rest = el('s', 'unheard', unheard.slice(gap));
    rest.title = entry.heardTextEstimated
      ? 'Not heard by the caller (estimated from how much of the audio played)'
      : 'Not heard by the caller';
    bubble.append(rest);
  }
  if (!bubble.hasChildNodes()) bubble.textContent = placeholder;
  return bubble;
}

function renderMarker(entry) {
  const marker = el('div', entry.kind === 'barge' ? 'marker barge-in' : 'marker dtmf');
  const label = el('span', 'marker-label');
  if (entry.kind === 'barge') {
    label.append(icon('bolt', 12), document.createTextNode(` Caller barged in · assistant cut at ${formatSeconds(entry.audioEndMs || 0)}`));
  } else {
    label.append(icon('keypad', 12), document.createTextNode(` Keypad ${entry.digit}`));
  }
  label.append(el('time', '', formatTime(entry.at)));
  marker.append(label);
  return marker;
}

const CONTROL_ACTIONS = { hang_up: 'Hang-up', transfer: 'Transfer', message: 'Message' };
const CONTROL_STATUS = { requested: 'requested', done: 'done', failed: 'failed', refused: 'refused' };

// A keypad string, a tool call or a call-control step: a chip in the timeline, like a barge-in marker.
function renderActivity(entry) {
  const marker = el('div', `marker activity ${entry.kind}`);
  const label = el('span', 'marker-label');
  if (entry.kind === 'dtmf-input') {
    label.append(icon('keypad', 12), document.createTextNode(' Keypad entry '));
    label.append(el('code', entry.masked ? 'digits masked' : 'digits', entry.digits || '(none)'));
    if (entry.masked) label.title = 'Masked for this agent (DTMF mask): the digits are not shown anywhere';
  } else if (entry.kind === 'tool') {
    marker.classList.add(entry.result ? (entry.result.ok ? 'ok' : 'error') : 'running');
    label.append(icon('tool', 12), document.createTextNode(' Tool '), el('code', 'tool-name', entry.name));
    if (!entry.result) label.append(el('span', 'outcome', '· running…'));
    else if (entry.result.ok) label.append(el('span', 'outcome', '· ok'));
    else label.append(el('span', 'outcome', `· error${entry.result.error ? `: ${entry.result.error}` : ''}`));
    if (entry.result && entry.result.latencyMs !== null) {
      const latency = el('span', 'latency');
      latency.append(icon('clock', 11), document.createTextNode(` ${entry.result.latencyMs} ms`));
      label.append(latency);
    }
    const details = [];
    if (typeof entry.arguments === 'string' && entry.arguments) details.push(`arguments: ${entry.arguments}`);
    if (entry.result && typeof entry.result.output === 'string' && entry.result.output) details.push(`result: ${entry.result.output}`);
    label.title = details.join('\n');
  } else {
    marker.classList.add(entry.status);
    const action = CONTROL_ACTIONS[entry.action] || entry.action;
    const who = entry.by === 'operator' ? 'Operator' : entry.by === 'model' ? 'Agent' : entry.by;
    label.append(icon('control', 12), document.createTextNode(` ${who}: ${action}${entry.target ? ` → ${entry.target}` : ''}`));
    label.append(el('span', 'outcome', `· ${CONTROL_STATUS[entry.status] || entry.status}`));
    if (entry.detail) label.append(el('span', 'detail', `· ${entry.detail}`));
  }
  label.append(el('time', '', formatTime(entry.at)));
  marker.append(label);
  return marker;
}

function renderEntry(entry) {
  if (entry.kind === 'turn') return renderTurn(entry);
  if (entry.kind === 'barge' || entry.kind === 'dtmf') return renderMarker(entry);
  return renderActivity(entry);
}

function renderTranscript(entries, emptyText) {
  const transcript = el('div', 'transcript');
  if (entries.length === 0) transcript.append(el('p', 'empty', emptyText));
  for (const entry of entries) transcript.append(renderEntry(entry));
  return transcript;
}

// The header and the transcript are rebuilt; the panels below them (`options.panels`: operator
// controls, raw events, a footer) are kept while they stay the same nodes, so that what an operator is
// typing and a panel's scroll position survive each event.
function renderDetail(container, call, options) {
  const previous = container.querySelector(':scope > .transcript');
  const stick = !previous || previous.scrollHeight - previous.scrollTop - previous.clientHeight < 40;
  const sameCall = container.dataset.sid === call.sid;
  const scrollTop = previous ? previous.scrollTop : 0;
  container.dataset.sid = call.sid;
  const header = detailHeader(call, options);
  const transcript = renderTranscript(call.entries, options.emptyText);
  const panels = (options.panels || []).filter(Boolean);
  const current = [...container.children];
  const keep = sameCall && current.length === panels.length + 2 && panels.every((p, i) => current[i + 2] === p);
  if (keep) {
    current[0].replaceWith(header);
    current[1].replaceWith(transcript);
  } else {
    container.replaceChildren(header, transcript, ...panels);
  }
  transcript.scrollTop = stick || !sameCall ? transcript.scrollHeight : scrollTop;
}

// ---------------------------------------------------------------------------------------------------
// A live call's operator controls and raw event panel. Both are built once per call and kept across
// renders (renderDetail); call.ui holds their nodes.

function uiOf(call) {
  if (!call.ui) call.ui = {};
  return call.ui;
}

function transfersOf(agentName) {
  const agent = state.agents.find((a) => a.name === (agentName || 'default')) || state.agents.find((a) => a.default);
  return agent ? agent.transfers : [];
}

function operatorPanel(call) {
  const ui = uiOf(call);
  if (!ui.operator) ui.operator = buildOperatorPanel(call);
  fillTransferSelect(call);
  return ui.operator.panel;
}

function buildOperatorPanel(call) {
  const panel = el('div', 'operator');
  panel.dataset.sid = call.sid;
  panel.append(el('span', 'operator-title', 'Operator'));

  const hangup = el('button', 'btn danger-ghost op-hangup', 'Hang up');
  hangup.type = 'button';
  let disarm = null;
  hangup.addEventListener('click', async () => {
    if (hangup.dataset.confirm !== 'yes') {
      hangup.dataset.confirm = 'yes';
      hangup.textContent = 'Hang up the call?';
      disarm = setTimeout(() => {
        delete hangup.dataset.confirm;
        hangup.textContent = 'Hang up';
      }, 5000);
      return;
    }
    clearTimeout(disarm);
    delete hangup.dataset.confirm;
    hangup.textContent = 'Hang up';
    hangup.disabled = true;
    await sendCommand(call, 'hangup', null, 'Hang-up');
    hangup.disabled = false;
  });

  const select = el('select', 'op-destination');
  select.setAttribute('aria-label', 'Transfer destination');
  const transfer = commandForm('op-transfer', select, 'Transfer', 'secondary', async () => {
    if (select.value) await sendCommand(call, 'transfer', { destination: select.value }, `Transfer to ${select.value}`);
  });

  const input = el('input', 'op-text');
  input.type = 'text';
  input.maxLength = MESSAGE_MAX;
  input.placeholder = 'A message for the agent (it may answer the caller)';
  input.setAttribute('aria-label', 'Message for the agent');
  const message = commandForm('op-message', input, 'Send', 'primary', async () => {
    const text = input.value.trim();
    if (text && (await sendCommand(call, 'messages', { text }, 'Message'))) input.value = '';
  });

  const status = el('p', 'op-status muted small');
  status.setAttribute('role', 'status');
  panel.append(hangup, transfer.form, message.form, status);
  return { panel, select, transferButton: transfer.button, status, destinations: null };
}

// One field and its submit button; the button is disabled while `submit` runs.
function commandForm(className, field, label, buttonClass, submit) {
  const form = el('form', className);
  const button = el('button', `btn ${buttonClass}`, label);
  button.type = 'submit';
  form.append(field, button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    button.disabled = true;
    await submit();
    button.disabled = false;
  });
  return { form, button };
}

function fillTransferSelect(call) {
  const ui = call.ui.operator;
  const names = transfersOf(call.agent);
  const key = names.join('\n');
  if (ui.destinations === key) return;
  ui.destinations = key;
  const chosen = ui.select.value;
  ui.select.replaceChildren();
  if (names.length === 0) {
    const none = el('option', '', 'No transfer destinations');
    none.value = '';
    ui.select.append(none);
  }
  for (const name of names) {
    const option = el('option', '', name);
    option.value = name;
    ui.select.append(option);
  }
  if (names.includes(chosen)) ui.select.value = chosen;
  ui.select.disabled = names.length === 0;
  ui.transferButton.disabled = names.length === 0;
  ui.select.title = names.length ? '' : "This call's agent has no transfer destinations (transfers in AGENTS_FILE, TRANSFER_DESTINATIONS)";
}

// POST /v1/calls/{sid}/<path>: 202 means the call has the command; its call.control events say how it went.
async function sendCommand(call, path, body, what) {
  const status = call.ui.operator.status;
  const show = (text, kind) => {
    status.textContent = text;
    status.className = `op-status small ${kind}`;
  };
  show(`${what}…`, 'muted');
  let response;
  try {
    response = await api(`/v1/calls/${encodeURIComponent(call.sid)}/${path}`, {
      method: 'POST',
      headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch {
    show('The server cannot be reached.', 'error');
    return false;
  }
  if (response.status === 202) {
    show(`${what} requested: the timeline shows what the call made of it.`, 'ok');
    return true;
  }
  const problem = await response.json().catch(() => ({}));
  show(response.status === 404 ? 'This call is no longer live on this server.' : problem.error || `Refused (HTTP ${response.status}).`, 'error');
  return false;
}

const DIRECTIONS = { twilio_in: 'Twilio →', twilio_out: '→ Twilio', upstream_in: 'Agent →', upstream_out: '→ Agent' };

function wirePanel(call) {
  const ui = uiOf(call);
  if (!ui.wire) {
    const panel = el('details', 'wire-panel');
    panel.open = true;
    const summary = el('summary', '', 'Raw events');
    const rows = el('div', 'wire-rows');
    panel.append(summary, rows);
    ui.wire = { panel, summary, rows, timer: null };
  }
  renderWireRows(call);
  return ui.wire.panel;
}

function renderWireRows(call) {
  const { summary, rows } = call.ui.wire;
  const stick = rows.scrollHeight - rows.scrollTop - rows.clientHeight < 24;
  summary.textContent = `Raw events · ${call.wire.length}${call.wire.length === WIRE_KEPT ? ' (latest)' : ''} · payloads not shown`;
  rows.replaceChildren(...call.wire.map((w) => {
    const row = el('div', `wire-row ${w.direction}`);
    row.append(el('time', '', formatTime(w.at)), el('span', 'dir', DIRECTIONS[w.direction] || w.direction),
      el('span', 'type', w.type), el('span', 'bytes', typeof w.bytes === 'number' ? `${w.bytes} B` : ''));
    return row;
  }));
  if (stick) rows.scrollTop = rows.scrollHeight;
}

// Wire events come one per message: the panel is redrawn at most five times a second, and the rest
// of the page only when the panel first appears.
function scheduleWireRender(call) {
  if (state.view !== 'live' || state.selected !== call.sid) return;
  const ui = uiOf(call);
  if (!ui.wire || !ui.wire.panel.isConnected) {
    renderLive();
    return;
  }
  if (ui.wire.timer) return;
  ui.wire.timer = setTimeout(() => {
    ui.wire.timer = null;
    renderWireRows(call);
  }, 200);
}

// ---------------------------------------------------------------------------------------------------
// A call's latency waterfall: one row per measured assistant turn, from its turn.latency event
// (docs/events.md, docs/latency.md). Every time counts from the moment the caller stopped speaking.

const WATERFALL_MARKS = [
  ['toFirstDelta', 'delta', 'First delta', 'the first thing the model sent for the turn'],
  ['toFirstAudio', 'audio', 'First audio', 'its first audio written to the caller'],
  ['toHeard', 'heard', 'Heard', 'the caller played it (first mark echoed)'],
];
const LATENCY_SUMMARY = [
  ['to_first_delta_ms', 'First delta'],
  ['to_first_audio_ms', 'First audio'],
  ['to_heard_ms', 'Heard'],
  ['bridge_ms', 'Bridge share'],
];

function latencyMs(value) {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
}

function latencyTurnOf(event) {
  return {
    turn: Number.isInteger(event.turn) ? event.turn : null,
    stoppedBy: event.stopped_by === 'provider' ? 'provider' : 'estimate',
    toFirstDelta: latencyMs(event.to_first_delta_ms),
    toFirstAudio: latencyMs(event.to_first_audio_ms),
    toHeard: latencyMs(event.to_heard_ms),
    bridge: latencyMs(event.bridge_ms),
  };
}

function formatMs(ms) {
  if (ms === null || ms === undefined) return '–';
  return ms >= 10000 ? formatSeconds(ms) : `${Math.round(ms)} ms`;
}

// A live call has no GET /v1/calls/{sid} "latency" yet: the same summary (median and maximum per
// measure) from the turns the page has seen.
function summariseLatency(turns) {
  const field = { to_first_delta_ms: 'toFirstDelta', to_first_audio_ms: 'toFirstAudio', to_heard_ms: 'toHeard', bridge_ms: 'bridge' };
  const summary = { turns: turns.length };
  for (const [key, name] of Object.entries(field)) {
    const values = turns.map((t) => t[name]).filter((v) => v !== null).sort((a, b) => a - b);
    summary[key] = values.length ? { p50: values[Math.floor((values.length - 1) / 2)], max: values[values.length - 1] } : null;
  }
  return summary;
}

// The axis' end: a round number just above the slowest turn.
function waterfallScale(turns) {
  const longest = Math.max(1, ...turns.flatMap((t) => [t.toFirstDelta, t.toFirstAudio, t.toHeard]).filter((v) => v !== null));
  const step = 10 ** Math.floor(Math.log10(longest));
  for (const factor of [1, 2, 2.5, 5, 10]) if (factor * step >= longest) return factor * step;
  return 10 * step;
}

function percentOf(ms, scale) {
  return `${Math.min(100, (ms / scale) * 100).toFixed(3)}%`;
}

function waterfallBar(className, from, to, scale, title) {
  const bar = el('div', `wf-bar ${className}`);
  bar.style.left = percentOf(from, scale);
  bar.style.width = percentOf(Math.max(to - from, 0), scale);
  bar.title = title;
  return bar;
}

function waterfallRow(turn, index, scale) {
  const row = el('div', 'wf-turn');
  row.dataset.turn = String(turn.turn ?? index + 1);
  const label = el('div', 'wf-label');
  label.append(el('span', 'wf-name', `Turn ${turn.turn ?? index + 1}`));
  const origin = el('span', 'wf-origin', turn.stoppedBy === 'provider' ? 'provider VAD' : 'bridge estimate');
  origin.title = turn.stoppedBy === 'provider'
    ? 'The provider said when the caller stopped speaking'
    : "The bridge estimated when the caller stopped speaking (the provider did not say)";
  label.append(origin);
  // Each segment ends at one mark and starts at the mark before it in time, whatever their order.
  const marks = WATERFALL_MARKS.filter(([name]) => turn[name] !== null).map(([name, kind, text, what]) => ({ at: turn[name], kind, text, what }))
    .sort((a, b) => a.at - b.at);
  const track = el('div', 'wf-track');
  let from = 0;
  for (const mark of marks) {
    track.append(waterfallBar(mark.kind, from, mark.at, scale, `${mark.text}: ${formatMs(mark.at)} (${mark.what})`));
    from = mark.at;
  }
  if (turn.bridge !== null && turn.toFirstAudio !== null) {
    const start = Math.max(0, turn.toFirstAudio - turn.bridge);
    track.append(waterfallBar('bridge', start, turn.toFirstAudio, scale,
      `Bridge share: ${formatMs(turn.bridge)} (upstream message read → written to the caller, for the first audio)`));
  }
  const values = el('div', 'wf-values');
  values.append(el('span', 'wf-audio', formatMs(turn.toFirstAudio)));
  if (turn.toHeard !== null) values.append(el('span', 'muted', ` · heard ${formatMs(turn.toHeard)}`));
  row.append(label, track, values);
  return row;
}

function waterfallSummary(summary) {
  const table = el('table', 'wf-summary');
  const head = el('tr');
  for (const name of ['', 'p50', 'max']) head.append(el('th', '', name));
  table.append(el('thead'), el('tbody'));
  table.tHead.append(head);
  for (const [key, text] of LATENCY_SUMMARY) {
    const measure = summary && summary[key] && typeof summary[key] === 'object' ? summary[key] : null;
    const tr = el('tr');
    tr.dataset.measure = key;
    tr.append(el('th', '', text), el('td', '', formatMs(measure ? latencyMs(measure.p50) : null)),
      el('td', '', formatMs(measure ? latencyMs(measure.max) : null)));
    table.tBodies[0].append(tr);
  }
  return table;
}

function waterfallLegend() {
  const legend = el('div', 'wf-legend');
  for (const [, kind, text] of [...WATERFALL_MARKS, [null, 'bridge', 'Bridge share']]) {
    const item = el('span', 'wf-key');
    item.append(el('span', `wf-swatch ${kind}`), document.createTextNode(text));
    legend.append(item);
  }
  return legend;
}

// Five ticks from 0 to `scale` (the waterfall's ms, the recording's m:ss.t).
function timeAxis(scale, format = formatMs) {
  const axis = el('div', 'wf-axis');
  for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
    const tick = el('span', 'wf-tick', format(scale * fraction));
    tick.style.left = percentOf(scale * fraction, scale);
    axis.append(tick);
  }
  return axis;
}

// Fills `panel` (a <details>) with the summary, the legend, an axis and one row per turn.
function renderWaterfall(panel, turns, summary) {
  const scale = waterfallScale(turns);
  const audio = summary && summary.to_first_audio_ms;
  const headline = `Latency waterfall · ${turns.length} ${turns.length === 1 ? 'turn' : 'turns'}`
    + (audio ? ` · first audio p50 ${formatMs(latencyMs(audio.p50))}, max ${formatMs(latencyMs(audio.max))}` : '');
  const rows = el('div', 'wf-rows');
  const spacer = el('div', 'wf-axis-row');
  spacer.append(el('span'), timeAxis(scale), el('span'));
  rows.append(spacer, ...turns.map((turn, index) => waterfallRow(turn, index, scale)));
  const body = el('div', 'wf-body');
  const side = el('div', 'wf-side');
  side.append(waterfallSummary(summary), waterfallLegend());
  body.append(rows, side);
  if (!panel.hasChildNodes()) panel.open = true;
  panel.replaceChildren(el('summary', '', headline), body);
  return panel;
}

function liveWaterfallPanel(call) {
  const ui = uiOf(call);
  if (!ui.waterfall) ui.waterfall = el('details', 'waterfall-panel');
  return renderWaterfall(ui.waterfall, call.latencyTurns, summariseLatency(call.latencyTurns));
}

// ---------------------------------------------------------------------------------------------------
// A stored call's recording (docs/recording.md "The dashboard player"): both channels drawn on a
// canvas, the call's barge-ins, truncates and transcript lines on the time line, play/pause with a
// moving cursor, a click or the arrow keys to seek. recording.js decodes, draws and plays; the history
// has one player at a time (state.history.player), closed when another call is shown.

const WAVE_ROW_PX = 44; // each channel's band of the canvas, in CSS pixels
const WAVE_COLORS = { caller: '#64748b', assistant: '#4f46e5', baseline: '#d5d9e3' };
const SEEK_STEP_MS = 5000;

// m:ss.t
function formatClock(ms) {
  const tenths = Math.floor(ms / 100);
  return `${Math.floor(tenths / 600)}:${((tenths % 600) / 10).toFixed(1).padStart(4, '0')}`;
}

function formatBytes(bytes) {
  return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

function closeRecordingPlayer() {
  const player = state.history.player;
  state.history.player = null;
  if (player) player.close();
}

// The panel for GET /v1/calls/{sid}'s `recording`; null when the server does not say (no recordings
// in this build). While the WAV loads the panel says so; the player replaces that message.
function recordingPanel(detail) {
  closeRecordingPlayer();
  const recording = detail.recording;
  if (recording === undefined) return null;
  const panel = el('details', 'recording-panel');
  panel.open = true;
  const head = el('summary', 'rec-head');
  head.append(el('span', 'rec-title', 'Recording'));
  const body = el('div', 'rec-body');
  panel.append(head, body);
  const say = (status, text, kind = 'muted') => {
    panel.dataset.state = status;
    body.replaceChildren(el('p', `rec-message ${kind}`, text));
  };
  // Closed: most calls of a server that records none would otherwise each carry the same paragraph.
  if (recording === null) {
    panel.open = false;
    head.append(el('span', 'muted small', 'not recorded'));
    say('none', 'This call was not recorded. Recording is chosen per agent profile ("record": true), or with '
      + 'RECORD_CALLS=true for the default profile (docs/recording.md).');
    return panel;
  }
  if (!detail.ended_at) {
    say('recording', 'Recording… the player opens once the call has ended.');
    return panel;
  }
  head.append(el('span', 'muted small', `${formatDuration(recording.duration_ms)} · ${formatBytes(recording.wav_bytes)}`));
  if (!recording.complete) {
    const note = el('span', 'rec-note', recording.dropped_bytes > 0
      ? `Incomplete: ${formatBytes(recording.dropped_bytes)} of the call's log was lost; its audio is silence`
      : 'Incomplete: a write failed or the server stopped during the call; what was written plays');
    note.title = 'complete: false in the call\'s recording (docs/recording.md)';
    head.append(note);
  }
  if (recording.wav_bytes > RECORDING_MAX_BYTES) {
    say('too-long', `This recording (${formatBytes(recording.wav_bytes)}) is too long to play in the page: `
      + 'GET /v1/calls/{sid}/recording.wav with the API token downloads it.');
    return panel;
  }
  const player = { panel, body, say, playback: null, frame: 0, resize: null };
  player.pause = () => {
    if (!player.playback) return;
    player.playback.pause();
    if (player.update) player.update();
  };
  player.close = () => {
    cancelAnimationFrame(player.frame);
    if (player.resize) player.resize.disconnect();
    if (player.playback) player.playback.close();
  };
  state.history.player = player;
  say('loading', `Loading the recording (${formatBytes(recording.wav_bytes)})…`);
  loadRecording(player, detail);
  return panel;
}

async function loadRecording(player, detail) {
  const current = () => state.history.player === player;
  let response;
  try {
    response = await api(`/v1/calls/${encodeURIComponent(detail.call_sid)}/recording.wav`);
  } catch {
    if (current()) player.say('error', 'The server cannot be reached.', 'error');
    return;
  }
  if (!current()) return;
  if (response.status === 404) {
    player.say('missing', "The recording's files are gone: deleted, or older than RECORDING_RETENTION_DAYS.");
    return;
  }
  if (response.status === 409) {
    player.say('recording', 'The recording is still being written: select the call again in a moment.');
    return;
  }
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    if (current()) player.say('error', problem.error || `Could not load the recording (HTTP ${response.status}).`, 'error');
    return;
  }
  let playback;
  try {
    playback = await RecordingPlayback.decode(await response.arrayBuffer());
  } catch {
    if (current()) player.say('error', 'The recording could not be decoded as a WAV file.', 'error');
    return;
  }
  if (!current()) return;
  if (playback.buffer.length === 0) {
    player.say('empty', 'The recording holds no audio.');
    return;
  }
  player.playback = playback;
  buildRecordingPlayer(player, recordingMarkers(detail, detail.recording.started_at, playback.durationMs));
}

function recordingMarker(marker, duration, seek) {
  const node = el('div', `rec-mark ${marker.kind}${marker.role ? ` ${marker.role}` : ''}`);
  node.dataset.atMs = String(Math.round(marker.atMs));
  node.title = marker.title;
  if (marker.kind === 'truncate') {
    node.dataset.fromMs = String(Math.round(marker.fromMs));
    node.style.left = percentOf(marker.fromMs, duration);
    node.style.width = percentOf(marker.atMs - marker.fromMs, duration);
  } else {
    node.style.left = percentOf(marker.atMs, duration);
  }
  if (marker.kind === 'barge') node.append(icon('bolt', 11));
  // A marker seeks to its moment; the truncate to the start of what the caller heard of the cut turn.
  node.addEventListener('pointerdown', (event) => {
    event.stopPropagation();
    seek(marker.kind === 'truncate' ? marker.fromMs : marker.atMs);
  });
  return node;
}

function recordingLegend() {
  const legend = el('div', 'rec-legend');
  for (const [kind, text] of [['caller', 'Caller'], ['assistant', 'Assistant, as heard'], ['barge', 'Barge-in'],
    ['truncate', 'Truncated turn (heard part)'], ['line', 'Transcript line']]) {
    const item = el('span', 'wf-key');
    item.append(el('span', `rec-swatch ${kind}`), document.createTextNode(text));
    legend.append(item);
  }
  return legend;
}

function buildRecordingPlayer(player, markers) {
  const { playback, panel, body } = player;
  const duration = playback.durationMs;
  const playButton = el('button', 'btn secondary rec-play');
  playButton.type = 'button';
  const time = el('span', 'rec-time');
  const track = el('div', 'rec-track');
  track.tabIndex = 0;
  track.setAttribute('role', 'slider');
  track.setAttribute('aria-label', 'Position in the recording');
  track.setAttribute('aria-valuemin', '0');
  track.setAttribute('aria-valuemax', String(Math.round(duration)));
  const canvas = el('canvas', 'rec-wave');
  const progress = el('div', 'rec-progress');
  const cursor = el('div', 'rec-cursor');
  const update = () => {
    cancelAnimationFrame(player.frame);
    const at = playback.positionMs;
    progress.style.width = percentOf(at, duration);
    cursor.style.left = percentOf(at, duration);
    time.textContent = `${formatClock(at)} / ${formatClock(duration)}`;
    track.setAttribute('aria-valuenow', String(Math.round(at)));
    track.setAttribute('aria-valuetext', formatClock(at));
    panel.dataset.state = playback.playing ? 'playing' : at >= duration ? 'ended' : 'paused';
    // Only on a change: a button whose content is replaced under the pointer loses the click.
    const label = playback.playing ? 'Pause' : 'Play';
    if (playButton.textContent !== label) playButton.replaceChildren(icon(label.toLowerCase(), 14), label);
    player.frame = playback.playing ? requestAnimationFrame(update) : 0;
  };
  player.update = update;
  const seek = (ms) => {
    playback.seek(ms);
    update();
  };
  playback.onEnded = update;
  playButton.addEventListener('click', async () => {
    if (playback.playing) playback.pause();
    else await playback.play();
    update();
  });
  track.addEventListener('pointerdown', (event) => {
    const box = track.getBoundingClientRect();
    seek(((event.clientX - box.left) / box.width) * duration);
  });
  track.addEventListener('keydown', (event) => {
    const moves = { ArrowLeft: -SEEK_STEP_MS, ArrowRight: SEEK_STEP_MS };
    if (event.key in moves) seek(playback.positionMs + moves[event.key]);
    else if (event.key === 'Home') seek(0);
    else if (event.key === 'End') seek(duration);
    else if (event.key === ' ') playButton.click();
    else return;
    event.preventDefault();
  });
  track.append(canvas, progress, el('span', 'rec-channel caller', 'Caller'),
    el('span', 'rec-channel assistant', 'Assistant, as heard'),
    ...markers.map((marker) => recordingMarker(marker, duration, seek)), cursor);
  const controls = el('div', 'rec-controls');
  controls.append(playButton, time, recordingLegend());
  const timeline = el('div', 'rec-timeline');
  timeline.append(track, timeAxis(duration, formatClock));
  body.replaceChildren(controls, timeline);
  // The canvas has one column per device pixel: drawn now (the state below promises a drawn
  // player), and again when the panel's width changes or a hidden panel is shown.
  drawRecording(canvas, playback.buffer);
  player.resize = new ResizeObserver(() => drawRecording(canvas, playback.buffer));
  player.resize.observe(track);
  update();
}

function drawRecording(canvas, buffer) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.round(canvas.clientWidth * ratio);
  if (width === 0 || canvas.dataset.drawnWidth === String(width)) return;
  canvas.dataset.drawnWidth = String(width);
  canvas.width = width;
  canvas.height = Math.round(2 * WAVE_ROW_PX * ratio);
  const context = canvas.getContext('2d');
  context.clearRect(0, 0, canvas.width, canvas.height);
  const band = WAVE_ROW_PX * ratio;
  for (const [index, role] of [[0, 'caller'], [1, 'assistant']]) {
    if (index >= buffer.numberOfChannels) continue;
    drawChannel(context, channelPeaks(buffer.getChannelData(index), width),
      { top: index * band, height: band, color: WAVE_COLORS[role], baseline: WAVE_COLORS.baseline });
  }
}

// A call of a profile the page does not know yet: the server's profiles are read again, once a minute at most.
function loadAgentsSoon() {
  if (Date.now() - state.agentsLoadedAt < 60000) return;
  state.agentsLoadedAt = Date.now();
  loadAgents();
}

async function loadAgents() {
  let response;
  try {
    response = await api('/v1/agents');
  } catch {
    return;
  }
  if (!response.ok) return;
  const body = await response.json().catch(() => ({}));
  if (!Array.isArray(body.agents)) return;
  state.agents = body.agents
    .filter((a) => a && typeof a.name === 'string')
    .map((a) => ({ name: a.name, default: a.default === true, transfers: Array.isArray(a.transfers) ? a.transfers.filter((t) => typeof t === 'string') : [] }));
  renderLive();
  fillAgentSelect();
}

function renderPlaceholder(container, title, text, iconName = 'phone') {
  container.dataset.sid = '';
  const box = el('div', 'placeholder');
  const badge = el('div', 'placeholder-icon');
  badge.append(icon(iconName, 26));
  box.append(badge, el('h2', '', title), el('p', 'muted', text));
  container.replaceChildren(box);
}

function renderLive() {
  renderCallList();
  const call = state.selected && state.calls.get(state.selected);
  if (!call) {
    renderPlaceholder($('live-detail'), 'No call selected',
      'Live calls appear on the left as they start. Call the agent from this browser to try it.');
    return;
  }
  renderDetail($('live-detail'), call, {
    live: true,
    emptyText: call.endedAt ? 'Nobody said anything on this call.' : 'Listening… the transcript appears as people speak.',
    panels: [call.latencyTurns.length ? liveWaterfallPanel(call) : null, call.wire.length ? wirePanel(call) : null,
      call.endedAt ? null : operatorPanel(call)],
  });
}

function tick() {
  if (state.token === null) return;
  const running = [...state.calls.values()].some((c) => !c.endedAt);
  if (running && state.view === 'live') {
    renderCallList();
    const call = state.selected && state.calls.get(state.selected);
    const ticking = document.querySelector('#live-detail .fact.ticking dd');
    if (call && !call.endedAt && ticking) ticking.textContent = formatDuration(Date.now() - call.startedAt);
  }
  if (softphone.state === 'in-call') $('sp-timer').textContent = formatDuration(performance.now() - softphone.startedAt);
}

// ---------------------------------------------------------------------------------------------------
// History

function historyQuery() {
  const params = new URLSearchParams();
  const number = $('f-number').value.trim();
  if (number) params.set('number', number);
  // Dates are the user's local days: from the start of `since` to the end of `until`.
  const since = $('f-since').value;
  const until = $('f-until').value;
  if (since) params.set('since', new Date(`${since}T00:00:00`).toISOString());
  if (until) {
    const end = new Date(`${until}T00:00:00`);
    end.setDate(end.getDate() + 1);
    params.set('until', end.toISOString());
  }
  return params;
}

async function loadHistory(fresh) {
  const h = state.history;
  const params = historyQuery();
  params.set('limit', String(HISTORY_PAGE));
  if (!fresh && h.cursor) params.set('cursor', h.cursor);
  h.stale = false;
  let response;
  try {
    response = await api(`/v1/calls?${params}`);
  } catch {
    return;
  }
  if (response.status === 503) {
    h.rows = [];
    h.cursor = null;
    renderHistoryList('Call history is off on this server (DATABASE_PATH is empty).');
    return;
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    renderHistoryList(body.error || `Could not load the history (HTTP ${response.status}).`);
    return;
  }
  const page = await response.json();
  h.rows = fresh ? page.calls : h.rows.concat(page.calls);
  h.cursor = page.next_cursor;
  h.loaded = true;
  renderHistoryList('');
  if (!h.selected && h.rows.length > 0) selectHistory(h.rows[0].call_sid);
  else if (!h.selected) renderPlaceholder($('history-detail'), 'No call selected', 'Pick a call on the left to read its transcript.');
}

function renderHistoryList(problem) {
  const h = state.history;
  const list = $('history-list');
  list.replaceChildren();
  for (const row of h.rows) {
    const item = el('li', `call-item${row.call_sid === h.selected ? ' selected' : ''}`);
    item.tabIndex = 0;
    item.dataset.sid = row.call_sid;
    const started = Date.parse(row.started_at);
    const top = el('div', 'call-item-top');
    top.append(el('span', 'call-number', displayNumber(row.from)));
    top.append(callPills(row.ended_at ? pill(reasonText(row.end_reason), 'muted') : pill('Running', 'live'), row.transport));
    const bottom = el('div', 'call-item-bottom');
    bottom.append(el('span', '', dateTimeFormat.format(new Date(started))));
    bottom.append(el('span', 'call-duration', row.ended_at ? formatDuration(row.duration_ms) : '–'));
    item.append(top, bottom);
    const choose = () => selectHistory(row.call_sid);
    item.addEventListener('click', choose);
    item.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') choose();
    });
    list.append(item);
  }
  $('history-empty').hidden = h.rows.length > 0 && !problem;
  $('history-empty').textContent = problem || 'No calls match.';
  $('history-more').hidden = !h.cursor;
  const n = h.rows.length;
  $('history-note').textContent = n ? `${n}${h.cursor ? '+' : ''} ${n === 1 && !h.cursor ? 'call' : 'calls'}` : '';
}

// History lines in time order; each barge-in right before the assistant line it cut.
function historyEntries(detail) {
  const entries = detail.transcript.map((line) => ({
    kind: 'turn',
    role: line.role === 'assistant' ? 'assistant' : 'caller',
    itemId: line.item_id,
    text: line.text,
    partial: false,
    interrupted: Boolean(line.interrupted),
    ...heardOf(line),
    at: Date.parse(line.time),
    latencyMs: null,
  }));
  for (const b of detail.barge_ins) {
    const marker = { kind: 'barge', itemId: b.item_id, audioEndMs: b.audio_end_ms, at: Date.parse(b.time) };
    const cut = entries.findIndex((e) => e.kind === 'turn' && e.itemId === b.item_id);
    if (cut >= 0) entries.splice(cut + 1, 0, marker);
    else entries.push(marker);
  }
  // Stored tool calls, DTMF strings and call control, in the live events' shapes, placed by time.
  if (Array.isArray(detail.events)) {
    const stored = newCall(detail.call_sid);
    for (const event of detail.events) if (event && typeof event.type === 'string') addActivity(stored, event, timeOf(event));
    for (const entry of stored.entries) {
      const after = entries.findIndex((e) => e.at > entry.at);
      if (after >= 0) entries.splice(after, 0, entry);
      else entries.push(entry);
    }
  }
  return entries;
}

async function selectHistory(sid) {
  const h = state.history;
  h.selected = sid;
  closeRecordingPlayer();
  renderHistoryList('');
  let response;
  try {
    response = await api(`/v1/calls/${encodeURIComponent(sid)}`);
  } catch {
    return;
  }
  if (h.selected !== sid) return;
  if (!response.ok) {
    renderPlaceholder($('history-detail'), 'Call not found', 'It may have been deleted.');
    return;
  }
  const detail = await response.json();
  const entries = historyEntries(detail);
  const started = Date.parse(detail.started_at);
  const call = {
    sid: detail.call_sid,
    from: detail.from,
    to: detail.to,
    agent: detail.agent,
    transport: detail.transport,
    startedAt: started,
    endedAt: detail.ended_at ? Date.parse(detail.ended_at) : null,
    durationMs: detail.duration_ms,
    reason: detail.end_reason || '',
    entries,
    stats: {
      turns: entries.filter((e) => e.kind === 'turn').length,
      bargeIns: detail.barge_ins.length,
    },
  };
  const footer = el('div', 'detail-footer');
  if (detail.usage) footer.append(el('span', 'muted small', `${detail.usage.total_tokens} tokens`));
  const remove = el('button', 'btn danger-ghost', 'Delete call');
  remove.type = 'button';
  remove.addEventListener('click', () => deleteCall(sid, remove));
  footer.append(remove);
  const latencyTurns = Array.isArray(detail.events)
    ? detail.events.filter((e) => e && e.type === 'turn.latency').map(latencyTurnOf)
    : [];
  renderDetail($('history-detail'), call, {
    live: false,
    emptyText: detail.ended_at ? 'Nobody said anything on this call.' : 'This call has not ended yet.',
    panels: [recordingPanel(detail),
      latencyTurns.length ? renderWaterfall(el('details', 'waterfall-panel'), latencyTurns, detail.latency) : null, footer],
  });
}

async function deleteCall(sid, button) {
  if (button.dataset.confirm !== 'yes') {
    button.dataset.confirm = 'yes';
    button.textContent = 'Delete for good?';
    return;
  }
  const response = await api(`/v1/calls/${encodeURIComponent(sid)}`, { method: 'DELETE' }).catch(() => null);
  if (!response || (!response.ok && response.status !== 404)) {
    button.textContent = 'Could not delete';
    return;
  }
  const h = state.history;
  h.rows = h.rows.filter((r) => r.call_sid !== sid);
  h.selected = null;
  closeRecordingPlayer();
  renderHistoryList('');
  if (h.rows.length > 0) selectHistory(h.rows[0].call_sid);
  else renderPlaceholder($('history-detail'), 'No call selected', 'Pick a call on the left to read its transcript.');
}

// ---------------------------------------------------------------------------------------------------
// Campaigns: POST /v1/campaigns, then GET /v1/campaigns/{id} every CAMPAIGN_POLL_MS while it runs.

const ROW_STATUS_KIND = {
  pending: 'muted', queued: 'warn', ringing: 'warn', 'in-progress': 'live', completed: 'ok',
  busy: 'danger', failed: 'danger', 'no-answer': 'danger', canceled: 'muted',
};

function fillAgentSelect() {
  const select = $('c-agent');
  const chosen = select.value;
  select.replaceChildren();
  for (const agent of state.agents) {
    const option = el('option', '', agent.default ? `${agent.name} (default)` : agent.name);
    option.value = agent.name;
    select.append(option);
  }
  if (state.agents.some((a) => a.name === chosen)) select.value = chosen;
  else {
    const fallback = state.agents.find((a) => a.default);
    if (fallback) select.value = fallback.name;
  }
}

function showCampaignError(message) {
  $('c-error').textContent = message;
  $('c-error').hidden = !message;
}

async function readCsvFile() {
  const file = $('c-file').files[0];
  if (!file) return;
  if (file.size > CSV_MAX_BYTES) {
    showCampaignError(`That file is larger than ${CSV_MAX_BYTES / 1024} KiB: split it into several campaigns.`);
    return;
  }
  $('c-csv').value = await file.text();
  showCampaignError('');
}

function renderRejected(rejected) {
  const box = $('c-rejected');
  box.hidden = rejected.length === 0;
  $('c-rejected-title').textContent = `${rejected.length} ${rejected.length === 1 ? 'row was' : 'rows were'} rejected (not dialled):`;
  $('c-rejected-list').replaceChildren(...rejected.map((r) => {
    const item = el('li');
    item.append(el('span', 'line', `line ${r.line}`), document.createTextNode(` ${r.error}`));
    return item;
  }));
}

async function startCampaign(event) {
  event.preventDefault();
  showCampaignError('');
  renderRejected([]);
  const csv = $('c-csv').value;
  if (!csv.trim()) {
    showCampaignError('Paste a CSV or choose a file first.');
    return;
  }
  // Empty pacing fields are left to the server (CAMPAIGN_CALLS_PER_SECOND, CAMPAIGN_MAX_ACTIVE).
  const body = { agent: $('c-agent').value || undefined, csv };
  if ($('c-cps').value) body.calls_per_second = Number($('c-cps').value);
  if ($('c-max').value) body.max_active = Number($('c-max').value);
  const button = $('c-start');
  button.disabled = true;
  let response;
  try {
    response = await api('/v1/campaigns', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  } catch {
    button.disabled = false;
    showCampaignError('The server cannot be reached.');
    return;
  }
  button.disabled = false;
  const answer = await response.json().catch(() => ({}));
  if (response.status !== 201) {
    showCampaignError(response.status === 404
      ? 'This server places no outbound calls (no campaign API).'
      : answer.error || `The campaign was not started (HTTP ${response.status}).`);
    if (Array.isArray(answer.rejected)) renderRejected(answer.rejected);
    return;
  }
  renderRejected(Array.isArray(answer.rejected) ? answer.rejected : []);
  state.campaigns.selected = answer.id;
  loadCampaigns();
  pollCampaign(answer.id);
}

async function loadCampaigns() {
  let response;
  try {
    response = await api('/v1/campaigns');
  } catch {
    return;
  }
  const list = $('campaign-list');
  if (!response.ok) {
    list.replaceChildren();
    $('campaign-list-empty').hidden = false;
    $('campaign-list-empty').textContent = response.status === 404
      ? 'This server places no outbound calls (no campaign API).'
      : `Could not load the campaigns (HTTP ${response.status}).`;
    return;
  }
  const body = await response.json().catch(() => ({}));
  state.campaigns.list = Array.isArray(body.campaigns) ? body.campaigns : [];
  renderCampaignList();
}

function countsText(counts) {
  return Object.entries(counts || {}).filter(([, n]) => n > 0).map(([status, n]) => `${n} ${status}`).join(' · ');
}

function renderCampaignList() {
  const c = state.campaigns;
  $('campaign-list').replaceChildren(...c.list.map((campaign) => {
    const item = el('li', `call-item${campaign.id === c.selected ? ' selected' : ''}`);
    item.tabIndex = 0;
    item.dataset.id = campaign.id;
    const top = el('div', 'call-item-top');
    top.append(el('span', 'call-number', campaign.agent || 'default'), pill(campaign.state, campaign.state === 'running' ? 'live' : 'muted'));
    item.append(top, el('div', 'call-item-bottom', countsText(campaign.counts)));
    const choose = () => {
      c.selected = campaign.id;
      renderCampaignList();
      pollCampaign(campaign.id);
    };
    item.addEventListener('click', choose);
    item.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') choose();
    });
    return item;
  }));
  $('campaign-list-empty').hidden = c.list.length > 0;
  $('campaign-list-empty').textContent = 'No campaigns yet.';
}

function stopCampaignPolling() {
  clearTimeout(state.campaigns.timer);
  state.campaigns.timer = null;
}

async function pollCampaign(id) {
  stopCampaignPolling();
  let response;
  try {
    response = await api(`/v1/campaigns/${encodeURIComponent(id)}`);
  } catch {
    return;
  }
  const c = state.campaigns;
  if (c.selected !== id || state.view !== 'campaigns') return;
  if (!response.ok) {
    renderPlaceholder($('campaign-detail'), 'Campaign not found', `HTTP ${response.status}`);
    return;
  }
  const detail = await response.json();
  const wasRunning = c.detail && c.detail.id === id && c.detail.state === 'running';
  c.detail = detail;
  renderCampaign(detail);
  if (detail.state === 'running') c.timer = setTimeout(() => pollCampaign(id), CAMPAIGN_POLL_MS);
  else if (wasRunning) loadCampaigns();
}

function renderCampaign(detail) {
  const rows = Array.isArray(detail.rows) ? detail.rows : [];
  const counts = {};
  for (const row of rows) counts[row.status] = (counts[row.status] || 0) + 1;
  const header = el('div', 'detail-header');
  const title = el('div', 'detail-title');
  title.append(el('h2', '', `Campaign ${detail.id}`), pill(detail.state, detail.state === 'running' ? 'live' : 'muted'));
  if (detail.state === 'running') {
    const cancel = el('button', 'btn danger-ghost campaign-cancel', 'Cancel campaign');
    cancel.type = 'button';
    cancel.addEventListener('click', () => cancelCampaign(detail.id, cancel));
    title.append(cancel);
  }
  const facts = el('dl', 'facts');
  for (const [label, value] of [['Agent', detail.agent || 'default'], ['Rows', String(rows.length)], ['Status', countsText(counts) || '–']]) {
    const item = el('div', 'fact');
    item.append(el('dt', '', label), el('dd', '', value));
    facts.append(item);
  }
  header.append(title, facts);

  const table = el('table', 'rows-table');
  const head = el('tr');
  for (const name of ['Line', 'Number', 'Variables', 'Status', 'Call', 'Error']) head.append(el('th', '', name));
  table.append(el('thead'), el('tbody'));
  table.tHead.append(head);
  for (const row of rows) {
    const tr = el('tr');
    tr.dataset.line = String(row.line);
    const variables = Object.entries(row.variables || {}).map(([k, v]) => `${k}=${v}`).join(', ');
    const status = el('td');
    status.append(pill(row.status, ROW_STATUS_KIND[row.status] || 'muted'));
    tr.append(el('td', 'num', String(row.line)), el('td', '', row.number), el('td', 'vars', variables), status,
      el('td', 'sid', row.call_sid || ''), el('td', 'row-error', row.error || ''));
    table.tBodies[0].append(tr);
  }
  const scroller = el('div', 'rows-scroll');
  scroller.append(table);
  const container = $('campaign-detail');
  const previous = container.querySelector('.rows-scroll');
  const scrollTop = previous && container.dataset.id === detail.id ? previous.scrollTop : 0;
  container.dataset.id = detail.id;
  container.replaceChildren(header, scroller);
  scroller.scrollTop = scrollTop;
}

async function cancelCampaign(id, button) {
  button.disabled = true;
  const response = await api(`/v1/campaigns/${encodeURIComponent(id)}/cancel`, { method: 'POST' }).catch(() => null);
  if (!response || !response.ok) {
    button.disabled = false;
    button.textContent = 'Could not cancel';
    return;
  }
  pollCampaign(id);
}

// ---------------------------------------------------------------------------------------------------
// Providers: the prober's runs, aggregates and alerts (GET /v1/probes, docs/latency.md), refreshed every
// PROBE_POLL_MS while the page shows them. Charts are uPlot's (the global the vendored script defines).

const PROBE_STAGES = [
  ['first_audio', 'First audio'],
  ['connect', 'Connect'],
  ['session', 'Session configured'],
  ['transcript_final', 'Final transcript'],
  ['text_first_audio', 'Text turn → first audio'],
  ['tool_answer', 'Tool round trip'],
];
const PROBE_ERROR_KINDS = ['connect', 'auth', 'timeout', 'protocol'];
const BUCKET_SECONDS = { '24h': 3600, '7d': 6 * 3600 };
const CHART_COLORS = { p50: '#4f46e5', p95: '#e0294a', errors: '#b86e00' };

function wireProviders() {
  const stage = $('p-stage');
  for (const [name, text] of PROBE_STAGES) {
    const option = el('option', '', text);
    option.value = name;
    stage.append(option);
  }
  $('probe-controls').addEventListener('submit', (event) => {
    event.preventDefault();
    loadProbes();
  });
  $('p-window').addEventListener('change', () => loadProbes());
  stage.addEventListener('change', () => renderProviders());
  let resizing = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => {
      if (state.view === 'providers') renderProviders();
    }, 150);
  });
}

function stopProbePolling() {
  clearTimeout(state.probes.timer);
  state.probes.timer = null;
}

function destroyCharts() {
  for (const chart of state.probes.charts) chart.destroy();
  state.probes.charts = [];
}

const asArray = (value) => (Array.isArray(value) ? value.filter((v) => v && typeof v === 'object') : []);

async function loadProbes() {
  stopProbePolling();
  const p = state.probes;
  let response;
  try {
    response = await api(`/v1/probes?window=${encodeURIComponent($('p-window').value)}&limit=${PROBE_RUNS_LIMIT}`);
  } catch {
    return;
  }
  if (state.view !== 'providers') return;
  const body = await response.json().catch(() => ({}));
  if (response.ok) {
    p.body = { windowS: Number(body.window_s) || 86400, now: Number(body.now) || Date.now(), runs: asArray(body.runs),
      aggregates: asArray(body.aggregates), alerts: asArray(body.alerts) };
    p.problem = '';
  } else {
    p.body = null;
    p.problem = response.status === 404 ? 'This server has no probe results API (GET /v1/probes).'
      : response.status === 503 ? 'Probe results need the store: this server keeps none (DATABASE_PATH is empty).'
        : body.error || `Could not load the probe results (HTTP ${response.status}).`;
  }
  renderProviders();
  stopProbePolling();
  p.timer = setTimeout(loadProbes, PROBE_POLL_MS);
}

const providerKey = (row) => `${row.provider}/${row.agent}`;

function stageOf(row, stage, measure) {
  const value = row && row.stages && row.stages[stage] && row.stages[stage][measure];
  return latencyMs(value);
}

function formatRate(rate) {
  const percent = (Number(rate) || 0) * 100;
  return `${percent < 10 && percent > 0 ? percent.toFixed(1) : Math.round(percent)}%`;
}

function renderProviders() {
  const p = state.probes;
  destroyCharts();
  const detail = $('provider-detail');
  const aggregates = p.body ? [...p.body.aggregates].sort((a, b) => providerKey(a).localeCompare(providerKey(b))) : [];
  if (!aggregates.some((a) => providerKey(a) === p.selected)) p.selected = aggregates.length ? providerKey(aggregates[0]) : null;
  renderProviderList(aggregates);
  renderAlerts(p.body ? p.body.alerts : []);
  const empty = $('provider-list-empty');
  empty.hidden = aggregates.length > 0;
  if (p.problem) {
    empty.textContent = p.problem;
    renderPlaceholder(detail, 'No probe results', p.problem, 'chart');
    return;
  }
  if (!p.body) return;
  if (aggregates.length === 0) {
    empty.textContent = 'No probe runs in this window.';
    renderPlaceholder(detail, 'No probe results yet',
      'The prober is off on this server, or has not run in this window. Set PROBE_AGENTS (* for every agent '
      + 'profile, or their names) to measure each provider every PROBE_INTERVAL_S; the charts fill in after the first run.', 'chart');
    detail.querySelector('.placeholder').classList.add('probe-empty');
    return;
  }
  renderProviderDetail(detail, aggregates.find((a) => providerKey(a) === p.selected));
}

function renderProviderList(aggregates) {
  const p = state.probes;
  const stage = $('p-stage').value;
  $('provider-note').textContent = aggregates.length ? `${aggregates.length} measured` : '';
  $('provider-list').replaceChildren(...aggregates.map((a) => {
    const key = providerKey(a);
    const item = el('li', `call-item provider-item${key === p.selected ? ' selected' : ''}`);
    item.tabIndex = 0;
    item.dataset.key = key;
    const top = el('div', 'call-item-top');
    const rate = Number(a.error_rate) || 0;
    top.append(el('span', 'call-number', String(a.provider)),
      pill(rate > 0 ? `${formatRate(rate)} errors` : 'no errors', rate > 0 ? 'danger' : 'ok'));
    const bottom = el('div', 'call-item-bottom');
    bottom.append(el('span', '', `${a.agent} · ${a.runs} ${a.runs === 1 ? 'run' : 'runs'}`));
    bottom.append(el('span', 'call-duration', `p50 ${formatMs(stageOf(a, stage, 'p50'))} · p95 ${formatMs(stageOf(a, stage, 'p95'))}`));
    item.append(top, bottom);
    const choose = () => {
      p.selected = key;
      renderProviders();
    };
    item.addEventListener('click', choose);
    item.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') choose();
    });
    return item;
  }));
}

function alertValue(alert, value) {
  if (typeof value !== 'number') return '–';
  return String(alert.rule).startsWith('error_rate') ? formatRate(value) : formatMs(value);
}

function renderAlerts(alerts) {
  $('alert-list').replaceChildren(...alerts.map((alert) => {
    const firing = alert.state === 'firing';
    const item = el('li', `alert-item ${firing ? 'firing' : 'recovered'}`);
    item.dataset.id = String(alert.id);
    const top = el('div', 'alert-top');
    top.append(pill(firing ? 'Firing' : 'Recovered', firing ? 'danger' : 'ok'), el('code', 'alert-rule', String(alert.rule)));
    const bottom = el('div', 'alert-bottom muted small');
    bottom.textContent = `${alert.provider} · ${alert.agent} · ${alertValue(alert, alert.value)} (threshold ${alertValue(alert, alert.threshold)})`;
    item.append(top, bottom, el('time', 'muted small', dateTimeFormat.format(new Date(Number(alert.at) || 0))));
    item.addEventListener('click', () => {
      state.probes.selected = providerKey(alert);
      renderProviders();
    });
    return item;
  }));
  $('alert-list-empty').hidden = alerts.length > 0;
}

function chartSection(title, note, className) {
  const section = el('section', `probe-section ${className}`);
  const head = el('div', 'probe-section-head');
  head.append(el('h3', '', title), el('span', 'muted small', note));
  const box = el('div', 'chart');
  section.append(head, box);
  return { section, box };
}

function renderProviderDetail(container, aggregate) {
  const { windowS, now, runs } = state.probes.body;
  const stage = $('p-stage').value;
  const stageName = PROBE_STAGES.find(([name]) => name === stage)[1];
  const previous = container.querySelector('.probe-body');
  const scrollTop = previous && container.dataset.key === providerKey(aggregate) ? previous.scrollTop : 0;
  container.dataset.key = providerKey(aggregate);
  container.dataset.sid = '';

  const header = el('div', 'detail-header');
  const title = el('div', 'detail-title');
  title.append(el('h2', '', String(aggregate.provider)), pill(String(aggregate.agent), 'muted'));
  const facts = el('dl', 'facts');
  const errors = aggregate.errors && typeof aggregate.errors === 'object' ? aggregate.errors : {};
  const errorText = PROBE_ERROR_KINDS.filter((k) => Number(errors[k]) > 0).map((k) => `${errors[k]} ${k}`).join(' · ');
  for (const [label, value] of [
    ['Runs', String(aggregate.runs)],
    ['Error rate', formatRate(aggregate.error_rate)],
    ['Errors', errorText || 'none'],
    [`${stageName} p50`, formatMs(stageOf(aggregate, stage, 'p50'))],
    ['p95', formatMs(stageOf(aggregate, stage, 'p95'))],
    ['p99', formatMs(stageOf(aggregate, stage, 'p99'))],
  ]) {
    const item = el('div', 'fact');
    item.append(el('dt', '', label), el('dd', '', value));
    facts.append(item);
  }
  header.append(title, facts);

  const body = el('div', 'probe-body');
  const windowName = $('p-window').value;
  const overTime = chartSection(`${stageName} over time`, `p50 and p95 per ${windowName === '7d' ? '6 hours' : 'hour'}`, 'probe-series');
  const byHour = chartSection(`${stageName} by hour of day`, 'p50 and p95, UTC, over the window', 'probe-hours');
  const errorRate = chartSection('Error rate', `per ${windowName === '7d' ? '6 hours' : 'hour'}`, 'probe-errors');
  const mine = runs.filter((r) => providerKey(r) === providerKey(aggregate)).slice(0, PROBE_RUNS_SHOWN);
  body.append(overTime.section, byHour.section, errorRate.section, probeRunsSection(mine, stage));
  container.replaceChildren(header, body);
  body.scrollTop = scrollTop;

  const series = asArray(aggregate.series);
  const span = [(now - windowS * 1000) / 1000, now / 1000];
  const bucketS = BUCKET_SECONDS[windowName] || 3600;
  const x = series.map((b) => Number(b.start) / 1000);
  const p = state.probes;
  p.charts.push(lineChart(overTime.box, span, x, series.map((b) => stageOf(b, stage, 'p50')), series.map((b) => stageOf(b, stage, 'p95'))));
  const hours = Array.from({ length: 24 }, (_, h) => h);
  const hourRows = new Map(asArray(aggregate.by_hour).map((row) => [Number(row.hour), row]));
  p.charts.push(hourChart(byHour.box, hours, hours.map((h) => stageOf(hourRows.get(h), stage, 'p50')),
    hours.map((h) => stageOf(hourRows.get(h), stage, 'p95'))));
  p.charts.push(errorChart(errorRate.box, [span[0], span[1] + bucketS],
    [x.map((t) => t + bucketS / 2), series.map((b) => (Number(b.error_rate) || 0) * 100)]));
}

function chartWidth(box) {
  return Math.max(240, Math.floor(box.getBoundingClientRect().width));
}

const msAxis = { size: 76, values: (u, splits) => splits.map((v) => formatMs(v)) };
const fromZero = (u, min, max) => [0, max > 0 ? max * 1.15 : 1];
const latencySeries = (label, color, extra) => ({ label, stroke: color, width: 2, value: (u, v) => formatMs(v), ...extra });

// Both latency charts draw the p50 last, on top of the p95: with few runs the two are often equal.
function lineChart(box, span, x, p50, p95) {
  return new uPlot({
    width: chartWidth(box),
    height: 200,
    scales: { x: { time: true, range: () => span }, y: { range: fromZero } },
    axes: [{}, msAxis],
    // Filled points: a window with a single bucket still shows its values.
    series: [{}, latencySeries('p95', CHART_COLORS.p95, { dash: [6, 4], points: { show: true, size: 7, fill: CHART_COLORS.p95 } }),
      latencySeries('p50', CHART_COLORS.p50, { points: { show: true, size: 7, fill: CHART_COLORS.p50 } })],
  }, [x, p95, p50], box);
}

function hourChart(box, hours, p50, p95) {
  const bars = (size) => uPlot.paths.bars({ size: [size, 48], align: 0 });
  return new uPlot({
    width: chartWidth(box),
    height: 180,
    scales: { x: { time: false, range: () => [-0.5, 23.5] }, y: { range: fromZero } },
    axes: [{ splits: () => [0, 3, 6, 9, 12, 15, 18, 21], values: (u, splits) => splits.map((h) => `${String(h).padStart(2, '0')}:00`) }, msAxis],
    series: [{ label: 'Hour (UTC)', value: (u, h) => (h === null ? '–' : `${String(h).padStart(2, '0')}:00`) },
      latencySeries('p95', CHART_COLORS.p95, { fill: 'rgba(224, 41, 74, 0.25)', paths: bars(0.8), points: { show: false } }),
      latencySeries('p50', CHART_COLORS.p50, { fill: 'rgba(79, 70, 229, 0.75)', paths: bars(0.45), points: { show: false } })],
  }, [hours, p95, p50], box);
}

function errorChart(box, span, data) {
  return new uPlot({
    width: chartWidth(box),
    height: 140,
    scales: { x: { time: true, range: () => span }, y: { range: (u, min, max) => [0, Math.min(100, Math.max(5, max * 1.2))] } },
    axes: [{}, { size: 76, values: (u, splits) => splits.map((v) => `${v}%`) }],
    series: [{}, { label: 'errors', stroke: CHART_COLORS.errors, fill: 'rgba(184, 110, 0, 0.3)', width: 1,
      paths: uPlot.paths.bars({ size: [0.6, 40], align: 0 }), points: { show: false }, value: (u, v) => (v === null ? '–' : `${v.toFixed(1)}%`) }],
  }, data, box);
}

function probeRunsSection(runs, chosen) {
  const section = el('section', 'probe-section probe-runs');
  const head = el('div', 'probe-section-head');
  head.append(el('h3', '', 'Latest runs'), el('span', 'muted small', `newest first${runs.length === PROBE_RUNS_SHOWN ? `, the last ${PROBE_RUNS_SHOWN}` : ''}`));
  const table = el('table', 'rows-table runs-table');
  const headRow = el('tr');
  headRow.append(el('th', '', 'Time'), el('th', '', 'Result'));
  for (const [name, text] of PROBE_STAGES) headRow.append(el('th', name === chosen ? 'chosen' : '', text));
  headRow.append(el('th', '', 'Detail'));
  table.append(el('thead'), el('tbody'));
  table.tHead.append(headRow);
  for (const run of runs) {
    const tr = el('tr');
    tr.dataset.id = String(run.id);
    const result = el('td');
    result.append(run.ok ? pill('ok', 'ok') : pill(String(run.error || 'error'), 'danger'));
    tr.append(el('td', 'num', dateTimeFormat.format(new Date(Number(run.started_at) || 0))), result);
    for (const [name] of PROBE_STAGES) {
      tr.append(el('td', `num${name === chosen ? ' chosen' : ''}`, formatMs(latencyMs(run.stages && run.stages[name]))));
    }
    tr.append(el('td', 'row-error', String(run.detail || '')));
    table.tBodies[0].append(tr);
  }
  section.append(head, table);
  if (runs.length === 0) section.append(el('p', 'empty', 'No run of this provider in the latest results.'));
  return section;
}

// ---------------------------------------------------------------------------------------------------
// The softphone panel

const softphone = new Softphone({ authHeaders: () => authHeaders(), apiToken: () => state.token });

function wireSoftphone() {
  $('sp-call').addEventListener('click', () => {
    showView('live');
    softphone.start();
  });
  $('sp-hangup').addEventListener('click', () => softphone.hangUp());
  $('sp-mute').addEventListener('click', () => softphone.setMuted(!softphone.muted));
  softphone.addEventListener('state', (event) => {
    const { state: phase, detail } = event.detail;
    const active = phase === 'connecting' || phase === 'in-call';
    const panel = $('softphone');
    panel.dataset.state = phase;
    $('sp-status').textContent = detail || 'Talk to your agent from this browser.';
    $('sp-call').hidden = active;
    $('sp-call').textContent = phase === 'ended' || phase === 'failed' ? 'Call again' : 'Call the agent';
    $('sp-hangup').hidden = !active;
    $('sp-mute').hidden = phase !== 'in-call';
    $('sp-mute').textContent = softphone.muted ? 'Unmute' : 'Mute';
    $('sp-mute').classList.toggle('on', softphone.muted);
    $('sp-meters').hidden = phase !== 'in-call';
    $('sp-timer').hidden = phase !== 'in-call';
    if (phase === 'in-call' && softphone.stats.callSid) {
      state.follow = softphone.stats.callSid;
      if (state.calls.has(state.follow)) {
        state.selected = state.follow;
        renderLive();
      }
    }
    if (!active) {
      $('sp-mic').style.width = '0%';
      $('sp-speaker').style.width = '0%';
    }
  });
  softphone.addEventListener('level', (event) => {
    const { source, level } = event.detail;
    // RMS to a meter: -60 dBFS → 0 %, 0 dBFS → 100 %.
    const db = level > 0 ? 20 * Math.log10(level) : -100;
    const percent = Math.max(0, Math.min(100, ((db + 60) / 60) * 100));
    $(source === 'mic' ? 'sp-mic' : 'sp-speaker').style.width = `${percent.toFixed(0)}%`;
  });
}

boot();
