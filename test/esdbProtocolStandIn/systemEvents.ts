/**
 * A fresh EventStoreDB node is not empty: it writes its own events (users, stream metadata) into
 * `$all` before any client does. The stand-in seeds a few events of the same kinds, so that readers
 * of `$all` meet system events (types starting with `$`) as they would against the real server.
 * The list approximates what a node writes at start; it is not a copy of it.
 */
import { randomUUID } from 'node:crypto';
import type { ProposedEvent, TransactionLog } from './transactionLog.js';

const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

const systemEvent = (type: string, data: unknown): ProposedEvent => ({
  id: randomUUID(),
  type,
  contentType: 'application/json',
  data: json(data),
  customMetadata: new Uint8Array(),
});

export const seedSystemEvents = (log: TransactionLog): void => {
  const user = (login: string, fullName: string, groups: readonly string[]) => ({ loginName: login, fullName, groups, disabled: false });
  log.write('$$$users', { kind: 'any' }, [systemEvent('$metadata', { $maxAge: null, $acl: { $r: '$admins', $w: '$admins' } })]);
  log.write('$user-admin', { kind: 'no_stream' }, [systemEvent('$UserCreated', user('admin', 'Event Store Administrator', ['$admins']))]);
  log.write('$users', { kind: 'any' }, [systemEvent('$User', 'admin')]);
  log.write('$user-ops', { kind: 'no_stream' }, [systemEvent('$UserCreated', user('ops', 'Event Store Operations', ['$ops']))]);
  log.write('$users', { kind: 'any' }, [systemEvent('$User', 'ops')]);
  log.write('$$$scavenges', { kind: 'any' }, [systemEvent('$metadata', { $maxAge: 2_592_000 })]);
};
