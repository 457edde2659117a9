import { describe, expect, it } from 'vitest';
import { connectionLost } from '../../adapters/eventStores/postgres/connectionLost.js';

const withCode = (code: string, message = 'failed'): Error => Object.assign(new Error(message), { code });

describe('connectionLost', () => {
  it('is true of a session the server ended or the network dropped', () => {
    expect(connectionLost(withCode('57P01', 'terminating connection due to administrator command'))).toBe(true);
    expect(connectionLost(withCode('57P02'))).toBe(true);
    expect(connectionLost(withCode('08006'))).toBe(true);
    expect(connectionLost(withCode('ECONNRESET', 'read ECONNRESET'))).toBe(true);
    expect(connectionLost(new Error('Connection terminated unexpectedly'))).toBe(true);
  });

  it('is false of a refusal on a connection that lives on, and of anything that is not an error', () => {
    expect(connectionLost(withCode('55P03', 'lock timeout'))).toBe(false);
    expect(connectionLost(withCode('23505', 'duplicate key value'))).toBe(false);
    expect(connectionLost(withCode('40001', 'could not serialize access'))).toBe(false);
    expect(connectionLost(new Error('WrongExpectedRevision'))).toBe(false);
    expect(connectionLost('Connection terminated')).toBe(false);
    expect(connectionLost(undefined)).toBe(false);
  });
});
