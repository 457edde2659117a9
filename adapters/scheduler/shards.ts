/**
 * The ring-back scheduler's work, split into a fixed number of shards of tenants: a tenant's
 * timers belong to shard `shardOf(tenantId, shards)`, a stable hash of its id (the first four bytes
 * of SHA-256, modulo the number of shards), so every instance and every version agrees on it.
 * Each shard has a lease of its own (`ring-back-scheduler:<shard>/<shards>`): when an instance
 * dies, only the shards it held wait for another instance, and they are spread over the survivors
 * as each takes what is free.
 *
 * Every instance of a deployment must use the same number of shards
 * (`CALLPARK_SCHEDULER_SHARDS`): the number is part of each lease's name, so instances that
 * disagree do not exclude each other. Even then nothing is recorded twice, since a timer's
 * command id is deterministic (timerCommand.ts); they would only both send it.
 */
import { createHash } from 'node:crypto';

/** The default of `CALLPARK_SCHEDULER_SHARDS`: a dead instance's share spreads over up to 16 survivors. */
export const DEFAULT_SCHEDULER_SHARDS = 16;

/** The most shards: a lease each, tried in one query every retry. */
export const MAX_SCHEDULER_SHARDS = 1_024;

/** The shard of a tenant's timers, from 0 to `shards - 1`. */
export const shardOf = (tenantId: string, shards: number): number => createHash('sha256').update(tenantId, 'utf8').digest().readUInt32BE(0) % shards;

/** The lease of one shard of the ring-back scheduler. */
export const schedulerShardLease = (shard: number, shards: number): string => `ring-back-scheduler:${shard}/${shards}`;

/** Every shard's lease, in shard order. */
export const schedulerShardLeases = (shards: number): string[] => Array.from({ length: shards }, (_, shard) => schedulerShardLease(shard, shards));

/** Which shards a set of lease names holds (those of `shards` shards). */
export const shardsIn = (leases: readonly string[], shards: number): number[] =>
  leases.flatMap((lease) => {
    const match = /^ring-back-scheduler:(\d+)\/(\d+)$/.exec(lease);
    return match !== null && Number(match[2]) === shards ? [Number(match[1])] : [];
  });
