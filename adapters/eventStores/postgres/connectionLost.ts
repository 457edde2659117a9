/**
 * Whether an error means the connection itself is gone (the server ended the session, the network
 * dropped it), rather than the server refusing what was asked on a connection that lives on. A
 * lost connection must not go back to the pool, and what was being written on it may be written
 * again on another: an append the server did commit before the loss is then answered as a retry,
 * by its event ids, so nothing is recorded twice.
 */

/** SQLSTATE classes and codes of a session that is over: 08 (connection exception), 57P01 to 57P03 (the server shutting it down). */
const lostStates = (code: string): boolean => code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03';

const lostSockets = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT', 'ENOTCONN']);

export const connectionLost = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false;
  const { code } = error as { code?: unknown };
  if (typeof code === 'string' && (lostStates(code) || lostSockets.has(code))) return true;
  // node-postgres's own words when the socket ends under a query or a checked-out client.
  return /Connection terminated|Client has encountered a connection error/.test(error.message);
};
