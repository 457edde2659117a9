/**
 * The audit's sessions as CSV (RFC 4180): a header line, then one line per session, each line
 * ended by CRLF; a field that holds a comma, a double quote, a CR or an LF is put in double quotes,
 * with its double quotes doubled. Instants are ISO-8601 in UTC; durations in milliseconds.
 *
 * A text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is one a spreadsheet
 * would run as a formula (a call id `=HYPERLINK(…)`, a caller `@SUM(…)`): it is written with a `'`
 * in front, as OWASP's CSV injection advice says, so it is shown as text. Numbers are written as
 * they are.
 */
import type { SessionSummary } from './auditQueries.js';

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8; header=present';

/** The first characters that make a spreadsheet read a cell as a formula. */
const formulaStart = /^[=+\-@\t\r]/;

/** A text cell as a spreadsheet will show it, never run it. */
export const inertText = (text: string): string => (formulaStart.test(text) ? `'${text}` : text);

export const csvField = (value: string | number | undefined): string => {
  if (value === undefined) return '';
  const text = typeof value === 'number' ? String(value) : inertText(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

export const csvLine = (fields: readonly (string | number | undefined)[]): string => `${fields.map(csvField).join(',')}\r\n`;

const iso = (millis: number | undefined): string | undefined => (millis === undefined ? undefined : new Date(millis).toISOString());

export const sessionCsvHeader = [
  'tenant_id',
  'session_id',
  'call_id',
  'policy',
  'orbit_code',
  'caller',
  'parker_user_id',
  'parker_endpoint',
  'retriever_user_id',
  'retriever_endpoint',
  'outcome',
  'parked_at',
  'ended_at',
  'time_to_retrieve_ms',
  'ring_back_attempts',
  'fallback',
] as const;

export const sessionCsvLine = (session: SessionSummary): string =>
  csvLine([
    session.tenantId,
    session.sessionId,
    session.callId,
    session.policy,
    session.orbitCode,
    session.caller,
    session.parker.userId,
    session.parker.endpoint,
    session.retriever?.userId,
    session.retriever?.endpoint,
    session.outcome,
    iso(session.parkedAt),
    iso(session.endedAt),
    session.timeToRetrieveMs,
    session.ringBackAttempts,
    session.fallback,
  ]);

/** The whole export, a line at a time (header first), to stream to the client. */
export async function* sessionsCsv(sessions: AsyncIterable<SessionSummary>): AsyncGenerator<string> {
  yield csvLine(sessionCsvHeader);
  for await (const session of sessions) yield sessionCsvLine(session);
}

/** Read CSV text back into rows of fields (RFC 4180), for tests and tools. */
export const parseCsv = (text: string): string[][] => {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += char;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
};
