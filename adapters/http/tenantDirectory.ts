/**
 * The tenants the service knows: those a token names, and those with any event in their call
 * park stream. A tenant, once known, stays known (events are never taken back), so the answer is
 * kept and the store is asked once per tenant. The composition root may use this or decide
 * otherwise (a configured list).
 */
import { callParkStream } from '../../domain/callPark.js';
import type { EventStore } from '../../domain/eventStore.js';
import type { TokenRegistry } from './auth.js';
import type { TenantDirectory } from './dependencies.js';

export const tenantDirectory = ({ tokens, store }: { readonly tokens: TokenRegistry; readonly store: EventStore }): TenantDirectory => {
  const known = new Set<string>();
  return {
    exists: async (tenantId) => {
      if (tokens.namesTenant(tenantId) || known.has(tenantId)) return true;
      for await (const _event of store.readStream(callParkStream(tenantId), { maxCount: 1 })) {
        known.add(tenantId);
        return true;
      }
      return false;
    },
  };
};
