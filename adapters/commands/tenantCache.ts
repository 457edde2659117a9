/**
 * The tenants a handler keeps in memory between commands, least recently used first out, at most
 * `limit` of them. A tenant is dropped whenever its state may be ahead of the store (a failed
 * append after its events were folded): the next command reads it again.
 */
import type { LoadedTenant } from './loadedTenant.js';

export class TenantCache {
  private readonly tenants = new Map<string, LoadedTenant>();

  constructor(
    private readonly enabled: boolean,
    private readonly limit: number,
  ) {}

  /** The tenant, now the most recently used. */
  take(tenantId: string): LoadedTenant | undefined {
    const tenant = this.tenants.get(tenantId);
    if (tenant !== undefined) {
      this.tenants.delete(tenantId);
      this.tenants.set(tenantId, tenant);
    }
    return tenant;
  }

  keep(tenantId: string, tenant: LoadedTenant): void {
    if (!this.enabled) return;
    this.tenants.set(tenantId, tenant);
    if (this.tenants.size > this.limit) this.tenants.delete(this.tenants.keys().next().value!);
  }

  drop(tenantId: string): void {
    this.tenants.delete(tenantId);
  }
}
