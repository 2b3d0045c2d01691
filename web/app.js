// The mediabridge dashboard (docs/dashboard.md): sign-in, live calls from the listener WebSocket
// (/v1/events), call history from the REST API (/v1/calls), and the browser softphone.
//
// The API token lives in this tab's sessionStorage. REST requests carry it in the Authorization header;
// only the WebSockets (events, softphone stream), which cannot carry headers, have it in their query
// string (the server logs paths only). It never appears in the page's own address.

import { Softphone } from './softphone.js';

const TOKEN_KEY = 'mediabridge.token';
const ENDED_KEPT = 12; // ended calls the live list keeps showing
const HISTORY_PAGE = 25;

const $ = (id) => document.getElementById(id);

const state = {
  token: null, // null: signed out; '': a server without API_TOKEN (loopback)
  view: 'live',
  calls: new Map(), // call_sid → live call model, from the event feed
  selected: null, // call_sid shown in the live view
  follow: null, // the softphone's call: selected as soon as it starts
  feed: { socket: null, retryMs: 1000, timer: null, opened: false },
  history: { rows: [], cursor: null, query: '', selected: null, loaded: false, stale: true },
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
}

function signOut(message = '') {
  if (state.token === null) return;
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  softphone.hangUp();
  closeFeed();
  state.calls.clear();
  state.selected = null;
  state.history = { rows: [], cursor: null, query: '', selected: null, loaded: false, stale: true };
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
  $('view-live').hidden = view !== 'live';
  $('view-history').hidden = view !== 'history';
  $('tab-live').classList.toggle('active', view === 'live');
  $('tab-history').classList.toggle('active', view === 'history');
  if (view === 'history' && state.history.stale) loadHistory(true);
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
    startedAt: null,
    endedAt: null,
    reason: '',
    durationMs: null,
    entries: [], // turns, barge-ins and DTMF in the order the call reported them
    turns: new Map(), // item_id → turn entry
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
      call.startedAt = at;
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
      call.entries.push({ kind: 'dtmf', digit: event.digit, at });
      break;
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
    top.append(call.endedAt ? pill(reasonText(call.reason), 'muted') : pill('Live', 'live'));
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

function renderTranscript(entries, emptyText) {
  const transcript = el('div', 'transcript');
  if (entries.length === 0) transcript.append(el('p', 'empty', emptyText));
  for (const entry of entries) transcript.append(entry.kind === 'turn' ? renderTurn(entry) : renderMarker(entry));
  return transcript;
}

function renderDetail(container, call, options) {
  const previous = container.querySelector('.transcript');
  const stick = !previous || previous.scrollHeight - previous.scrollTop - previous.clientHeight < 40;
  const sameCall = container.dataset.sid === call.sid;
  const scrollTop = previous ? previous.scrollTop : 0;
  container.dataset.sid = call.sid;
  const transcript = renderTranscript(call.entries, options.emptyText);
  container.replaceChildren(detailHeader(call, options), transcript, ...(options.footer ? [options.footer] : []));
  transcript.scrollTop = stick || !sameCall ? transcript.scrollHeight : scrollTop;
}

function renderPlaceholder(container, title, text) {
  container.dataset.sid = '';
  const box = el('div', 'placeholder');
  const badge = el('div', 'placeholder-icon');
  badge.append(icon('phone', 26));
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
    top.append(row.ended_at ? pill(reasonText(row.end_reason), 'muted') : pill('Running', 'live'));
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
  return entries;
}

async function selectHistory(sid) {
  const h = state.history;
  h.selected = sid;
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
  renderDetail($('history-detail'), call, {
    live: false,
    emptyText: detail.ended_at ? 'Nobody said anything on this call.' : 'This call has not ended yet.',
    footer,
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
  renderHistoryList('');
  if (h.rows.length > 0) selectHistory(h.rows[0].call_sid);
  else renderPlaceholder($('history-detail'), 'No call selected', 'Pick a call on the left to read its transcript.');
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
