/* global document, window, sessionStorage, localStorage, EventSource, fetch, URL, URLSearchParams, crypto */
/**
 * The supervisors' page: a live occupancy board of the whole tenant fed by the occupancy stream
 * (Server-Sent Events), grouped or filtered by policy, long waits and failing ring backs marked,
 * a supervisor's actions on each call (send it to its fallback now, ring the parker now), an
 * audit search with each session's timeline, refused attempts, and the CSV export. Plain DOM,
 * no framework, no build step. Every value from the API is put in the page as text, never as HTML.
 */

const TOKEN_KEY = 'callpark.supervisor.token';
const TENANT_KEY = 'callpark.supervisor.tenant';
/** Kept in this browser for this supervisor (local storage): who acts, and what counts as a long wait. */
const SUPERVISOR_KEY = 'callpark.supervisor.userId';
const LONG_WAIT_KEY = 'callpark.supervisor.longWaitSeconds';
/** The tenant-wide default the service sets (CALLPARK_LONG_WAIT_SECONDS), until a supervisor sets their own. */
const DEFAULT_LONG_WAIT_SECONDS = Number(document.body.dataset.longWaitSeconds) || 120;
const TITLE = document.title;

const $ = (id) => document.getElementById(id);

const state = {
  tenant: '',
  token: '',
  source: undefined,
  /** policy name → { policy, rangeStart, rangeEnd, orbitPrefix, orbits: Map<number, orbit> } */
  policies: new Map(),
  /** The policy shown, or '' for every policy of the tenant. */
  selected: '',
  supervisor: '',
  longWaitSeconds: DEFAULT_LONG_WAIT_SECONDS,
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

const api = async (path, params = {}, init = {}) => {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== '') url.searchParams.set(name, value);
  const response = await fetch(url, { ...init, headers: { authorization: `Bearer ${state.token}`, ...init.headers } });
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
  select.replaceChildren(
    element('option', { text: 'All policies', attributes: { value: '' } }),
    ...[...state.policies.keys()].map((name) => element('option', { text: name, attributes: { value: name } })),
  );
  state.selected = state.policies.has(previous) ? previous : '';
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
  if (state.selected === '' || change.policy === state.selected) renderBoard();
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
  return rows.sort((a, b) => a.orbit - b.orbit).map((orbit) => ({ ...orbit, policy: policy.policy }));
};

/** A ring back that went unanswered: the call is parked again after at least one attempt. */
const ringBackFailing = (orbit) => orbit.status === 'parked' && orbit.attempt > 0;

const ringBackText = (orbit, now) => {
  if (orbit.status === 'ringing-back') return `Ringing now (attempt ${orbit.attempt})`;
  if (orbit.status !== 'parked' || !orbit.ringBackDueAt) return '';
  const due = Date.parse(orbit.ringBackDueAt);
  const failing = ringBackFailing(orbit) ? `Ring back failing: ${orbit.attempt} unanswered · ` : '';
  const next = orbit.attempt > 0 ? ` (attempt ${orbit.attempt + 1})` : '';
  return `${failing}${due > now ? `in ${duration(due - now)} · ${clock(orbit.ringBackDueAt)}` : 'due now'}${next}`;
};

const isLongWait = (orbit, now) => orbit.status !== 'free' && orbit.parkedAt !== undefined && now - Date.parse(orbit.parkedAt) >= state.longWaitSeconds * 1000;

/** The policies shown: the one selected, or all of them. */
const shownPolicies = () => (state.selected === '' ? [...state.policies.values()] : [state.policies.get(state.selected)].filter(Boolean));

/** Each policy's counts: free orbits of its range, calls parked, ringing back, waiting too long. */
const countsOf = (policy, now) => {
  const counts = { policy: policy.policy, free: 0, parked: 0, ringing: 0, long: 0, total: policy.rangeEnd - policy.rangeStart + 1 };
  for (let orbit = policy.rangeStart; orbit <= policy.rangeEnd; orbit++) if ((policy.orbits.get(orbit)?.status ?? 'free') === 'free') counts.free++;
  for (const orbit of policy.orbits.values()) {
    if (orbit.status === 'parked') counts.parked++;
    if (orbit.status === 'ringing-back') counts.ringing++;
    if (isLongWait(orbit, now)) counts.long++;
  }
  return counts;
};

/** The counts of what is shown, each policy's in its own row, and long waits in the page's title. */
const renderCounts = (now) => {
  const perPolicy = [...state.policies.values()].map((policy) => countsOf(policy, now));
  const shown = perPolicy.filter((counts) => state.selected === '' || counts.policy === state.selected);
  const sum = (name) => shown.reduce((total, counts) => total + counts[name], 0);
  $('count-free').textContent = String(sum('free'));
  $('count-parked').textContent = String(sum('parked'));
  $('count-ringing').textContent = String(sum('ringing'));
  $('count-long').textContent = String(sum('long'));
  $('count-total').textContent = String(sum('total'));
  $('counts').classList.toggle('alert', sum('long') > 0);
  const longEverywhere = perPolicy.reduce((total, counts) => total + counts.long, 0);
  document.title = longEverywhere > 0 ? `(${longEverywhere}) ${TITLE}` : TITLE;
  $('policy-counts').tBodies[0].replaceChildren(
    ...perPolicy.map((counts) =>
      element('tr', { className: counts.long > 0 ? 'long-wait' : '', attributes: { 'data-policy': counts.policy } }, [
        element('th', { text: counts.policy, attributes: { scope: 'row' } }),
        element('td', { text: String(counts.parked) }),
        element('td', { text: String(counts.ringing) }),
        element('td', { text: String(counts.long) }),
        element('td', { text: `${counts.free} of ${counts.total}` }),
      ]),
    ),
  );
};

// ---------------------------------------------------------------- a supervisor's actions

const actionWords = { 'send-to-fallback': 'sent to its fallback', 'ring-parker': 'is ringing the parker' };

const act = async (action, orbit) => {
  const status = $('action-status');
  status.classList.remove('error');
  if (!state.supervisor) {
    status.classList.add('error');
    status.textContent = 'Enter your user id when you sign in: every action records who did it.';
    return;
  }
  try {
    await api(
      `${tenantPath()}/sessions/${encodeURIComponent(orbit.sessionId)}/${action}`,
      {},
      { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() }, body: JSON.stringify({ supervisor: state.supervisor }) },
    );
    status.textContent = `The call on ${orbit.code} (${orbit.policy}) ${actionWords[action]}.`;
  } catch (error) {
    status.classList.add('error');
    status.textContent = `The call on ${orbit.code} was not acted on: ${error.message}`;
  }
};

const actionButton = (action, label, orbit) =>
  element('button', { className: 'secondary small-button', text: label, attributes: { type: 'button', 'data-action': action, 'aria-label': `${label}: the call on ${orbit.code} (${orbit.policy})` } });

/** The buttons of a held call; their clicks are read by the table's own listener (see `actOnClick`). */
const actions = (orbit) => element('td', { className: 'actions' }, [actionButton('ring-parker', 'Ring parker', orbit), actionButton('send-to-fallback', 'Send to fallback', orbit)]);

/** A button of a row acts on the call the row shows now (one listener for the whole table). */
const actOnClick = (event) => {
  const button = event.target.closest?.('button[data-action]');
  const orbit = button?.closest('tr')?.orbit;
  if (!button || button.disabled || !orbit || orbit.status === 'free') return;
  void act(button.dataset.action, orbit);
};

const rowKey = (orbit) => `${orbit.policy}\n${orbit.orbit}`;

/**
 * One orbit's row, updated in place. The row, and the buttons of the call it holds, stay the
 * same elements while the orbit holds the same session: a render (an occupancy change, a
 * snapshot, a new threshold committed as the focus leaves its field) between a button's
 * mousedown and mouseup would otherwise detach it, and the browser would fire no click; a
 * keyboard user's focus would be lost as well.
 */
const renderRow = (row, orbit, now, every) => {
  const held = orbit.status !== 'free';
  const previous = row.orbit;
  const status = element('span', { className: `status ${orbit.status}`, text: statusWords[orbit.status] ?? orbit.status });
  const parkedBy = held ? element('td', {}, [element('span', { text: orbit.parkedBy?.userId ?? '' }), element('br'), element('span', { className: 'small', text: orbit.parkedBy?.endpoint ?? '' })]) : element('td');
  const since = element('td', { text: held && orbit.parkedAt ? duration(now - Date.parse(orbit.parkedAt)) : '', attributes: held ? { 'data-since': orbit.parkedAt, title: `Parked at ${when(orbit.parkedAt)}` } : {} });
  const ringBack = element('td', { text: held ? ringBackText(orbit, now) : orbit.freedAt ? `freed ${clock(orbit.freedAt)}` : '', attributes: { 'data-ring-back': '' } });
  const code = element('td', { className: 'code' }, [element('span', { text: orbit.code + (orbit.outsideRange ? ' (outside range)' : '') })]);
  if (every) code.append(element('br'), element('span', { className: 'small policy-name', text: orbit.policy }));
  const sameCall = held && previous !== undefined && previous.status !== 'free' && previous.sessionId === orbit.sessionId;
  const buttons = sameCall ? row.cells[6] : held ? actions(orbit) : element('td');
  const ring = buttons.querySelector('[data-action="ring-parker"]');
  if (ring) ring.disabled = orbit.status === 'ringing-back';
  const cells = [code, element('td', {}, [status]), parkedBy, since, ringBack, element('td', { className: 'small wide', text: held ? (orbit.callId ?? '') : '' }), buttons];
  cells.forEach((cell, index) => {
    const old = row.cells[index];
    if (old === undefined) row.append(cell);
    else if (old !== cell) row.replaceChild(cell, old);
  });
  row.className = [isLongWait(orbit, now) ? 'long-wait' : '', ringBackFailing(orbit) ? 'failing' : ''].filter(Boolean).join(' ');
  row.dataset.orbit = String(orbit.orbit);
  row.dataset.policy = orbit.policy;
  row.dataset.status = orbit.status;
  row.orbit = orbit;
  return row;
};

const renderBoard = () => {
  const body = $('orbits').tBodies[0];
  const now = Date.now();
  renderCounts(now);
  const every = state.selected === '';
  const existing = new Map([...body.rows].map((row) => [rowKey(row.orbit), row]));
  const rows = shownPolicies()
    .flatMap(visibleOrbits)
    .map((orbit) => renderRow(existing.get(rowKey(orbit)) ?? element('tr'), orbit, now, every));
  // Rows that stay are neither removed nor moved (either would detach a pressed or focused button).
  const kept = new Set(rows);
  for (const row of [...body.rows]) if (!kept.has(row)) row.remove();
  rows.forEach((row, index) => {
    if (body.rows[index] !== row) body.insertBefore(row, body.rows[index] ?? null);
  });
  $('board-empty').hidden = rows.some((row) => row.orbit.status !== 'free');
};

/** Once a second: the times parked and the ring-back countdowns, without rebuilding the table. */
const tick = () => {
  const now = Date.now();
  renderCounts(now);
  for (const row of $('orbits').tBodies[0].rows) {
    const orbit = row.orbit;
    if (!orbit || orbit.status === 'free') continue;
    row.classList.toggle('long-wait', isLongWait(orbit, now));
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
    element('td', { text: session.policy }),
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

/** The words a person reads for each detail of a timeline entry (the raw names stay in "All details"). */
const detailLabels = {
  media: 'Media',
  directed: 'Orbit chosen by',
  ringBackDueAt: 'Rings back at',
  caller: 'Caller',
  retriever: 'Retrieved by',
  via: 'Retrieved',
  parkedAt: 'Parked at',
  retrieverCallId: "Retriever's call",
  ringingAttempt: 'Ringing attempt stopped',
  attempt: 'Attempt',
  attempts: 'Ring backs tried',
  unansweredAt: 'Unanswered at',
  cause: 'Why',
  nextRingBackDueAt: 'Next ring back at',
  fallback: 'Sent to',
  phase: 'Hung up while',
  sentBy: 'Sent on by supervisor',
  requestedBy: 'Rung by supervisor',
  reason: 'Reason',
  orbitCode: 'Orbit dialed',
};
const valueWords = {
  directed: { true: 'the parker', false: 'the service' },
  via: { orbit: 'by dialing the orbit', 'ring-back': 'by answering the ring back' },
  cause: { 'no-answer': 'nobody answered', busy: 'busy', unavailable: 'unavailable', timeout: 'timed out', declined: 'declined', 'cannot-ring-back': 'the endpoint cannot be rung back', 'sent-by-supervisor': 'a supervisor sent it on' },
  phase: { parked: 'parked', 'ringing-back': 'the parker was being rung back' },
};
const eventWords = {
  Parked: 'Parked',
  RingBackStarted: 'Ring back started',
  RingBackUnanswered: 'Ring back unanswered',
  Retrieved: 'Retrieved',
  Expired: 'Sent to the fallback',
  Abandoned: 'Caller hung up',
  RetrievalRejected: 'Retrieval refused',
};

/** A detail's value in words: a party as "user (endpoint)", an instant in local time, settings left to the raw view. */
const detailText = (name, value) => {
  if (value && typeof value === 'object' && 'userId' in value) return `${value.userId} (${value.endpoint})`;
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) return when(value);
  if (typeof value === 'object') return undefined;
  return valueWords[name]?.[String(value)] ?? String(value);
};

const timelineEntry = (parkedAt) => (entry) => {
  const facts = Object.entries(entry.details)
    .filter(([name]) => detailLabels[name] !== undefined)
    .map(([name, value]) => [detailLabels[name], detailText(name, value)])
    .filter(([, text]) => text !== undefined);
  const list = element('dl', {}, facts.flatMap(([name, text]) => [element('dt', { text: name }), element('dd', { text })]));
  const raw = element('details', {}, [element('summary', { text: 'All details' }), element('code', { text: JSON.stringify(entry.details, null, 1) })]);
  const after = Date.parse(entry.at) - Date.parse(parkedAt);
  const offset = after > 0 ? ` (${duration(after)} after the park)` : '';
  return element('li', { attributes: { 'data-type': entry.type } }, [element('span', { className: 'event', text: eventWords[entry.type] ?? entry.type }), element('span', { text: ` at ${when(entry.at)}${offset}` }), list, raw]);
};

const showTimeline = async (sessionId) => {
  const panel = $('timeline');
  try {
    const session = await (await api(`${tenantPath()}/sessions/${encodeURIComponent(sessionId)}`)).json();
    $('timeline-title').textContent = `Timeline of ${session.orbitCode} · ${session.callId}`;
    const ended = session.endedAt ? `, ended ${when(session.endedAt)} after ${duration(Date.parse(session.endedAt) - Date.parse(session.parkedAt))}` : '';
    $('timeline-facts').textContent = `Parked by ${session.parker.userId} (${session.parker.endpoint}) on policy ${session.policy} at ${when(session.parkedAt)}${ended}; status ${session.status}.`;
    $('timeline-entries').replaceChildren(...session.timeline.map(timelineEntry(session.parkedAt)));
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

/** Whether the token may read the tenant: a wrong one says so, rather than a page that looks signed in. */
const verify = async () => {
  const error = $('sign-in-error');
  try {
    await api(`${tenantPath()}/occupancy`);
    error.hidden = true;
    return true;
  } catch (failure) {
    error.textContent = `Not signed in: ${failure.message}`;
    error.hidden = false;
    sessionStorage.removeItem(TOKEN_KEY);
    setConnection('Not connected');
    return false;
  }
};

const start = async () => {
  if (!(await verify())) {
    showSignedIn(false);
    return;
  }
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
  state.supervisor = localStorage.getItem(SUPERVISOR_KEY) ?? '';
  state.longWaitSeconds = Number(localStorage.getItem(LONG_WAIT_KEY)) || DEFAULT_LONG_WAIT_SECONDS;
  $('tenant').value = state.tenant;
  $('supervisor').value = state.supervisor;
  $('long-wait').value = String(state.longWaitSeconds);
  $('long-wait').addEventListener('change', (event) => {
    const seconds = Math.round(Number(event.target.value));
    if (!Number.isFinite(seconds) || seconds < 1 || seconds > 3600) return;
    state.longWaitSeconds = seconds;
    localStorage.setItem(LONG_WAIT_KEY, String(seconds));
    renderBoard();
  });

  $('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    state.tenant = $('tenant').value.trim();
    state.token = $('token').value.trim();
    $('token').value = '';
    state.supervisor = $('supervisor').value.trim();
    localStorage.setItem(SUPERVISOR_KEY, state.supervisor);
    sessionStorage.setItem(TENANT_KEY, state.tenant);
    sessionStorage.setItem(TOKEN_KEY, state.token);
    void start();
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
  $('orbits').tBodies[0].addEventListener('click', actOnClick);
  $('search').addEventListener('submit', (event) => {
    event.preventDefault();
    void search(false);
    void loadRefusals();
  });
  $('more').addEventListener('click', () => void search(true));
  $('export').addEventListener('click', () => void exportCsv());
  window.setInterval(tick, 1000);

  if (state.tenant && state.token) void start();
};

init();
