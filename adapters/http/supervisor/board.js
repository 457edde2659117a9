/* global document, window, sessionStorage, EventSource, fetch, URL, URLSearchParams */
/**
 * The supervisors' page: a live occupancy board fed by the occupancy stream (Server-Sent Events),
 * an audit search with each session's timeline, refused attempts, and the CSV export. Plain DOM,
 * no framework, no build step. Every value from the API is put in the page as text, never as HTML.
 */

const TOKEN_KEY = 'callpark.supervisor.token';
const TENANT_KEY = 'callpark.supervisor.tenant';

const $ = (id) => document.getElementById(id);

const state = {
  tenant: '',
  token: '',
  source: undefined,
  /** policy name → { policy, rangeStart, rangeEnd, orbitPrefix, orbits: Map<number, orbit> } */
  policies: new Map(),
  selected: '',
  nextCursor: undefined,
  lastSearch: undefined,
};

// ---------------------------------------------------------------- helpers

const element = (tag, options = {}, children = []) => {
  const node = document.createElement(tag);
  if (options.text !== undefined) node.textContent = options.text;
  if (options.className) node.className = options.className;
  for (const [name, value] of Object.entries(options.attributes ?? {})) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
};

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

const clock = (iso) => (iso ? timeFormat.format(new Date(iso)) : '');
const when = (iso) => (iso ? dateTimeFormat.format(new Date(iso)) : '');

/** 75 seconds → "1:15"; an hour and more → "1:02:03". */
const duration = (millis) => {
  const total = Math.max(0, Math.floor(millis / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
};

const statusWords = { free: 'Free', parked: 'Parked', 'ringing-back': 'Ringing back' };
const outcomeWords = {
  active: 'Active',
  retrieved: 'Retrieved',
  'retrieved-by-ring-back': 'Retrieved by ring back',
  expired: 'Expired',
  abandoned: 'Abandoned',
};

const setConnection = (text, kind) => {
  const node = $('connection');
  node.textContent = text;
  node.className = `connection ${kind ?? ''}`;
};

const api = async (path, params = {}) => {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== '') url.searchParams.set(name, value);
  const response = await fetch(url, { headers: { authorization: `Bearer ${state.token}` } });
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const problem = await response.json();
      if (problem.detail) detail = problem.detail;
    } catch {
      // Not a problem document: keep the status.
    }
    throw new Error(detail);
  }
  return response;
};

const tenantPath = () => `/v1/tenants/${encodeURIComponent(state.tenant)}`;

// ---------------------------------------------------------------- the board

const applySnapshot = (snapshot) => {
  state.policies = new Map(
    snapshot.policies.map((policy) => {
      // The orbits that hold a call, and the free ones that were freed, as [orbit, freedAt].
      const orbits = new Map(policy.orbits.map((orbit) => [orbit.orbit, orbit]));
      for (const [orbit, freedAt] of policy.freed ?? []) orbits.set(orbit, { orbit, code: `${policy.orbitPrefix}${orbit}`, status: 'free', freedAt });
      return [policy.policy, { ...policy, orbits }];
    }),
  );
  const select = $('policy');
  const previous = state.selected || select.value;
  select.replaceChildren(...[...state.policies.keys()].map((name) => element('option', { text: name, attributes: { value: name } })));
  state.selected = state.policies.has(previous) ? previous : ([...state.policies.keys()][0] ?? '');
  select.value = state.selected;
  renderBoard();
};

const applyChange = (change) => {
  const policy = state.policies.get(change.policy);
  if (!policy) return;
  const current = policy.orbits.get(change.orbit.orbit ?? change.orbit);
  switch (change.kind) {
    case 'parked':
      policy.orbits.set(change.orbit.orbit, change.orbit);
      break;
    case 'ringing-back':
      if (current && current.sessionId === change.sessionId) {
        const next = { ...current, status: 'ringing-back', attempt: change.attempt, unansweredAt: change.unansweredAt };
        delete next.ringBackDueAt;
        policy.orbits.set(change.orbit, next);
      }
      break;
    case 'ring-back-unanswered':
      if (current && current.sessionId === change.sessionId) {
        const next = { ...current, status: 'parked', attempt: change.attempt, ringBackDueAt: change.ringBackDueAt };
        delete next.unansweredAt;
        policy.orbits.set(change.orbit, next);
      }
      break;
    case 'freed':
      if (current && current.sessionId === change.sessionId) {
        const code = `${policy.orbitPrefix}${change.orbit}`;
        policy.orbits.set(change.orbit, { orbit: change.orbit, code, status: 'free', freedAt: change.freedAt });
      }
      break;
    default:
      return;
  }
  if (change.policy === state.selected) renderBoard();
};

const visibleOrbits = (policy) => {
  const showFree = $('show-free').checked;
  const rows = [];
  for (let orbit = policy.rangeStart; orbit <= policy.rangeEnd; orbit++) {
    const held = policy.orbits.get(orbit);
    if (held && held.status !== 'free') rows.push(held);
    else if (showFree) rows.push(held ?? { orbit, code: `${policy.orbitPrefix}${orbit}`, status: 'free' });
  }
  for (const held of policy.orbits.values()) if ((held.orbit < policy.rangeStart || held.orbit > policy.rangeEnd) && held.status !== 'free') rows.push({ ...held, outsideRange: true });
  return rows.sort((a, b) => a.orbit - b.orbit);
};

const ringBackText = (orbit, now) => {
  if (orbit.status === 'ringing-back') return `Ringing now (attempt ${orbit.attempt})`;
  if (orbit.status !== 'parked' || !orbit.ringBackDueAt) return '';
  const due = Date.parse(orbit.ringBackDueAt);
  const next = orbit.attempt > 0 ? ` (attempt ${orbit.attempt + 1})` : '';
  return due > now ? `in ${duration(due - now)} · ${clock(orbit.ringBackDueAt)}${next}` : `due now${next}`;
};

const renderBoard = () => {
  const policy = state.policies.get(state.selected);
  const body = $('orbits').tBodies[0];
  if (!policy) {
    body.replaceChildren();
    return;
  }
  let parked = 0;
  let ringing = 0;
  let freeInRange = 0;
  for (let orbit = policy.rangeStart; orbit <= policy.rangeEnd; orbit++) {
    const status = policy.orbits.get(orbit)?.status ?? 'free';
    if (status === 'free') freeInRange++;
  }
  for (const orbit of policy.orbits.values()) {
    if (orbit.status === 'parked') parked++;
    if (orbit.status === 'ringing-back') ringing++;
  }
  $('count-free').textContent = String(freeInRange);
  $('count-parked').textContent = String(parked);
  $('count-ringing').textContent = String(ringing);
  $('count-total').textContent = String(policy.rangeEnd - policy.rangeStart + 1);

  const now = Date.now();
  const rows = visibleOrbits(policy).map((orbit) => {
    const held = orbit.status !== 'free';
    const status = element('span', { className: `status ${orbit.status}`, text: statusWords[orbit.status] ?? orbit.status });
    const parkedBy = held ? element('td', {}, [element('span', { text: orbit.parkedBy?.userId ?? '' }), element('br'), element('span', { className: 'small', text: orbit.parkedBy?.endpoint ?? '' })]) : element('td');
    const since = element('td', { text: held && orbit.parkedAt ? duration(now - Date.parse(orbit.parkedAt)) : '', attributes: held ? { 'data-since': orbit.parkedAt, title: `Parked at ${when(orbit.parkedAt)}` } : {} });
    const ringBack = element('td', { text: held ? ringBackText(orbit, now) : orbit.freedAt ? `freed ${clock(orbit.freedAt)}` : '', attributes: { 'data-ring-back': '' } });
    const row = element('tr', { attributes: { 'data-orbit': String(orbit.orbit), 'data-status': orbit.status } }, [
      element('td', { className: 'code', text: orbit.code + (orbit.outsideRange ? ' (outside range)' : '') }),
      element('td', {}, [status]),
      parkedBy,
      since,
      ringBack,
      element('td', { className: 'small', text: held ? (orbit.callId ?? '') : '' }),
    ]);
    row.orbit = orbit;
    return row;
  });
  body.replaceChildren(...rows);
  $('board-empty').hidden = parked + ringing > 0;
};

/** Once a second: the times parked and the ring-back countdowns, without rebuilding the table. */
const tick = () => {
  const now = Date.now();
  for (const row of $('orbits').tBodies[0].rows) {
    const orbit = row.orbit;
    if (!orbit || orbit.status === 'free') continue;
    const since = row.querySelector('[data-since]');
    if (since) since.textContent = duration(now - Date.parse(orbit.parkedAt));
    const ringBack = row.querySelector('[data-ring-back]');
    if (ringBack) ringBack.textContent = ringBackText(orbit, now);
  }
};

const connect = () => {
  state.source?.close();
  setConnection('Connecting…');
  const url = new URL(`${tenantPath()}/occupancy/stream`, window.location.origin);
  url.searchParams.set('access_token', state.token);
  const source = new EventSource(url);
  state.source = source;
  source.addEventListener('snapshot', (message) => {
    applySnapshot(JSON.parse(message.data));
    setConnection(`Live · ${state.tenant}`, 'live');
  });
  source.addEventListener('change', (message) => applyChange(JSON.parse(message.data)));
  // Live once the board is there: the snapshot comes a moment after the stream opens.
  source.addEventListener('open', () => setConnection('Connected: waiting for the board…'));
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) setConnection('Disconnected: check the tenant and the token.', 'down');
    else setConnection('Reconnecting…', 'down');
  });
};

// ---------------------------------------------------------------- the audit

const searchParams = () => {
  const form = new window.FormData($('search'));
  const params = {};
  for (const [name, value] of form.entries()) {
    if (value === '') continue;
    params[name] = name === 'from' || name === 'to' ? new Date(value).toISOString() : value;
  }
  return params;
};

const sessionRow = (session) => {
  const open = element('button', { className: 'link', text: 'Timeline', attributes: { type: 'button', 'aria-label': `Timeline of the call parked on ${session.orbitCode} at ${when(session.parkedAt)}` } });
  open.addEventListener('click', () => void showTimeline(session.sessionId));
  return element('tr', { attributes: { 'data-session': session.sessionId } }, [
    element('td', { text: when(session.parkedAt) }),
    element('td', { className: 'code', text: session.orbitCode }),
    element('td', { text: session.parker.userId }),
    element('td', { text: outcomeWords[session.outcome] ?? session.outcome }),
    element('td', { text: session.retriever?.userId ?? '' }),
    element('td', { text: session.timeToRetrieveMs === undefined ? '' : duration(session.timeToRetrieveMs) }),
    element('td', {}, [open]),
  ]);
};

const search = async (append) => {
  const status = $('search-status');
  status.classList.remove('error');
  status.textContent = 'Searching…';
  try {
    const params = append ? { ...state.lastSearch, cursor: state.nextCursor } : searchParams();
    if (!append) state.lastSearch = params;
    const page = await (await api(`${tenantPath()}/audit/sessions`, { ...params, limit: '25' })).json();
    const body = $('sessions').tBodies[0];
    const rows = page.items.map(sessionRow);
    if (append) body.append(...rows);
    else body.replaceChildren(...rows);
    state.nextCursor = page.nextCursor;
    $('more').hidden = page.nextCursor === undefined;
    $('sessions-empty').hidden = body.rows.length > 0;
    status.textContent = `${body.rows.length} session${body.rows.length === 1 ? '' : 's'} shown${page.nextCursor ? ', more available' : ''}.`;
  } catch (error) {
    status.classList.add('error');
    status.textContent = `The search failed: ${error.message}`;
  }
};

/** A detail's value in words: a party as "user (endpoint)", an instant in local time, settings left to the raw view. */
const detailText = (name, value) => {
  if (value && typeof value === 'object' && 'userId' in value) return `${value.userId} (${value.endpoint})`;
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) return when(value);
  if (typeof value === 'object') return undefined;
  return String(value);
};

const timelineEntry = (entry) => {
  const facts = Object.entries(entry.details)
    .map(([name, value]) => [name, detailText(name, value)])
    .filter(([, text]) => text !== undefined);
  const list = element('dl', {}, facts.flatMap(([name, text]) => [element('dt', { text: name }), element('dd', { text })]));
  const raw = element('details', {}, [element('summary', { text: 'All details' }), element('code', { text: JSON.stringify(entry.details, null, 1) })]);
  return element('li', {}, [element('span', { className: 'event', text: entry.type }), element('span', { text: ` at ${when(entry.at)}` }), list, raw]);
};

const showTimeline = async (sessionId) => {
  const panel = $('timeline');
  try {
    const session = await (await api(`${tenantPath()}/sessions/${encodeURIComponent(sessionId)}`)).json();
    $('timeline-title').textContent = `Timeline of ${session.orbitCode} · ${session.callId}`;
    const ended = session.endedAt ? `, ended ${when(session.endedAt)}` : '';
    $('timeline-facts').textContent = `Parked by ${session.parker.userId} (${session.parker.endpoint}) on policy ${session.policy} at ${when(session.parkedAt)}${ended}; status ${session.status}.`;
    $('timeline-entries').replaceChildren(...session.timeline.map(timelineEntry));
  } catch (error) {
    $('timeline-title').textContent = 'Timeline';
    $('timeline-facts').textContent = `The timeline could not be read: ${error.message}`;
    $('timeline-entries').replaceChildren();
  }
  panel.hidden = false;
  $('timeline-title').focus();
};

const loadRefusals = async () => {
  try {
    const page = await (await api(`${tenantPath()}/audit/refusals`, { limit: '20' })).json();
    $('refusals-empty').hidden = page.items.length > 0;
    $('refusals').tBodies[0].replaceChildren(
      ...page.items.map((refusal) =>
        element('tr', {}, [
          element('td', { text: when(refusal.at) }),
          element('td', { text: refusal.type === 'ParkRejected' ? 'Park' : 'Retrieval' }),
          element('td', { text: `${refusal.user.userId} (${refusal.user.endpoint})` }),
          element('td', { className: 'small', text: refusal.reason }),
          element('td', { text: refusal.message }),
        ]),
      ),
    );
  } catch {
    // The sessions search says what is wrong; the refusals table stays as it was.
  }
};

const exportCsv = async () => {
  const status = $('search-status');
  try {
    const response = await api(`${tenantPath()}/audit/sessions.csv`, searchParams());
    const link = element('a', { attributes: { href: URL.createObjectURL(await response.blob()), download: `callpark-sessions-${state.tenant}.csv` } });
    document.body.append(link);
    link.click();
    link.remove();
    status.textContent = 'The CSV export was downloaded.';
  } catch (error) {
    status.classList.add('error');
    status.textContent = `The export failed: ${error.message}`;
  }
};

// ---------------------------------------------------------------- signing in

const showSignedIn = (signedIn) => {
  $('sign-in-form').hidden = signedIn;
  $('sign-in-hint').hidden = signedIn;
  $('signed-in').hidden = !signedIn;
  $('signed-in-tenant').textContent = state.tenant;
};

const start = () => {
  showSignedIn(true);
  $('board').hidden = false;
  $('audit').hidden = false;
  connect();
  void search(false);
  void loadRefusals();
};

const init = () => {
  const fromUrl = new URLSearchParams(window.location.search).get('tenant');
  state.tenant = sessionStorage.getItem(TENANT_KEY) ?? fromUrl ?? '';
  state.token = sessionStorage.getItem(TOKEN_KEY) ?? '';
  $('tenant').value = state.tenant;

  $('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    state.tenant = $('tenant').value.trim();
    state.token = $('token').value.trim();
    $('token').value = '';
    sessionStorage.setItem(TENANT_KEY, state.tenant);
    sessionStorage.setItem(TOKEN_KEY, state.token);
    start();
  });
  const signOut = () => {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = '';
    state.source?.close();
    setConnection('Not connected');
    showSignedIn(false);
    $('board').hidden = true;
    $('audit').hidden = true;
    $('tenant').focus();
  };
  $('sign-out').addEventListener('click', signOut);
  $('switch').addEventListener('click', signOut);
  $('policy').addEventListener('change', (event) => {
    state.selected = event.target.value;
    renderBoard();
  });
  $('show-free').addEventListener('change', renderBoard);
  $('search').addEventListener('submit', (event) => {
    event.preventDefault();
    void search(false);
    void loadRefusals();
  });
  $('more').addEventListener('click', () => void search(true));
  $('export').addEventListener('click', () => void exportCsv());
  window.setInterval(tick, 1000);

  if (state.tenant && state.token) start();
};

init();
