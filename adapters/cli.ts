#!/usr/bin/env node
/**
 * `npx callpark …`: administration from a terminal, with subcommands named after the cmdlets,
 * talking to the HTTP API with a token; and `callpark projections rebuild`, which replays the log
 * into fresh tables and swaps them in while the service keeps running.
 *
 *   callpark policy new Sales --AllowCallPark true --PickupRangeStart 500 --PickupRangeEnd 599
 *   callpark policy set Global --AllowCallPark $true
 *   callpark policy get [Sales]
 *   callpark policy remove Sales
 *   callpark policy grant alice@contoso.com Sales        (Global or none takes the grant away)
 *   callpark endpoints get | set mobile --park true --retrieve true --ringBack false | reset mobile
 *   callpark projections rebuild [occupancy|audit_history|reporting|ring_back_timers]
 *
 * Where and as whom: --url (CALLPARK_URL; the local service on PORT by default), --token
 * (CALLPARK_TOKEN; else the admin token the embedded service keeps under CALLPARK_DATA_DIR),
 * --tenant (CALLPARK_TENANT).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultSettings, type SettingName } from '../domain/parkPolicy.js';
import { rebuildProjections } from './projectionRebuild.js';

const usage = `usage:
  callpark policy new <identity> [--<Setting> <value> …]
  callpark policy set <identity> --<Setting> <value> [--<Setting> <value> …]
  callpark policy get [<identity>]
  callpark policy remove <identity>
  callpark policy grant <userId> <identity | Global | none>
  callpark endpoints get
  callpark endpoints set <endpoint> --park <bool> --retrieve <bool> --ringBack <bool>
  callpark endpoints reset <endpoint>
  callpark projections rebuild [<name>]
options: --url URL (CALLPARK_URL)  --token TOKEN (CALLPARK_TOKEN)  --tenant ID (CALLPARK_TENANT)
settings: ${Object.keys(defaultSettings).join(', ')} (case-insensitive, as the cmdlets write them)`;

class UsageError extends Error {}

const settingNames = new Map((Object.keys(defaultSettings) as SettingName[]).map((name) => [name.toLowerCase(), name]));

/** A cmdlet-style value: $true/$false, numbers, or text. */
const valueOf = (setting: SettingName, raw: string): unknown => {
  const kind = typeof defaultSettings[setting];
  if (kind === 'boolean') {
    const normalized = raw.replace(/^\$/, '').toLowerCase();
    if (normalized !== 'true' && normalized !== 'false') throw new UsageError(`--${setting} takes true or false, not "${raw}"`);
    return normalized === 'true';
  }
  if (kind === 'number') {
    if (!/^-?\d+$/.test(raw)) throw new UsageError(`--${setting} takes a whole number, not "${raw}"`);
    return Number(raw);
  }
  return raw;
};

/** `--Name value` pairs after the positional arguments, as settings. */
const settingsFrom = (args: readonly string[]): Record<string, unknown> => {
  const settings: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i]!;
    const name = settingNames.get(flag.replace(/^-{1,2}/, '').toLowerCase());
    if (!flag.startsWith('-') || name === undefined) throw new UsageError(`unknown setting ${flag}`);
    const raw = args[i + 1];
    if (raw === undefined) throw new UsageError(`${flag} needs a value`);
    settings[name] = valueOf(name, raw);
  }
  return settings;
};

const capabilitiesFrom = (args: readonly string[]): Record<string, boolean> => {
  const { values } = parseArgs({ args: [...args], options: { park: { type: 'string' }, retrieve: { type: 'string' }, ringBack: { type: 'string' } } });
  const bool = (name: string, raw: string | undefined): boolean => {
    if (raw !== 'true' && raw !== 'false') throw new UsageError(`--${name} takes true or false`);
    return raw === 'true';
  };
  return { park: bool('park', values.park), retrieve: bool('retrieve', values.retrieve), ringBack: bool('ringBack', values.ringBack) };
};

interface Target {
  readonly url: string;
  readonly token: string;
  readonly tenant: string;
}

const call = async (target: Target, method: string, path: string, body?: unknown): Promise<number> => {
  const response = await fetch(`${target.url}/v1/tenants/${encodeURIComponent(target.tenant)}${path}`, {
    method,
    headers: { authorization: `Bearer ${target.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const answer: unknown = text ? JSON.parse(text) : undefined;
  if (response.ok) {
    console.log(JSON.stringify(answer, null, 2));
    return 0;
  }
  const problem = (answer ?? {}) as { title?: string; detail?: string; errors?: { path: string; message: string }[] };
  console.error(`${response.status} ${problem.title ?? response.statusText}: ${problem.detail ?? ''}`);
  for (const error of problem.errors ?? []) console.error(`  ${error.path}: ${error.message}`);
  return 1;
};

const targetFrom = async (options: { url?: string; token?: string; tenant?: string }): Promise<Target> => {
  const url = (options.url ?? process.env.CALLPARK_URL ?? `http://127.0.0.1:${process.env.PORT ?? '8080'}`).replace(/\/$/, '');
  const tenant = options.tenant ?? process.env.CALLPARK_TENANT;
  if (!tenant) throw new UsageError('name the tenant: --tenant ID or CALLPARK_TENANT');
  let token = options.token ?? process.env.CALLPARK_TOKEN;
  if (!token) {
    const file = join(process.env.CALLPARK_DATA_DIR ?? './data', 'admin-token');
    token = await readFile(file, 'utf8').then(
      (text) => text.trim(),
      () => undefined,
    );
    if (!token) throw new UsageError(`give a token: --token TOKEN, CALLPARK_TOKEN, or run where the service keeps ${file}`);
  }
  return { url, token, tenant };
};

const policy = async (target: Target, [verb, name, ...rest]: string[]): Promise<number> => {
  const path = (identity: string) => `/policies/${encodeURIComponent(identity)}`;
  switch (verb) {
    case 'new':
      if (!name) throw new UsageError('policy new needs an identity');
      return call(target, 'POST', '/policies', { identity: name, ...settingsFrom(rest) });
    case 'set':
      if (!name || rest.length === 0) throw new UsageError('policy set needs an identity and at least one setting');
      return call(target, 'PATCH', path(name), settingsFrom(rest));
    case 'get':
      return call(target, 'GET', name ? path(name) : '/policies');
    case 'remove':
      if (!name) throw new UsageError('policy remove needs an identity');
      return call(target, 'DELETE', path(name));
    case 'grant': {
      const [identity] = rest;
      if (!name || !identity) throw new UsageError('policy grant needs a user and a policy (Global or none to take the grant away)');
      return call(target, 'PUT', `/grants/${encodeURIComponent(name)}`, { policy: identity.toLowerCase() === 'none' ? null : identity });
    }
    default:
      throw new UsageError(`unknown policy subcommand ${verb ?? '(none)'}`);
  }
};

const endpoints = async (target: Target, [verb, endpoint, ...rest]: string[]): Promise<number> => {
  switch (verb) {
    case 'get':
      return call(target, 'GET', '/endpoints');
    case 'set':
      if (!endpoint) throw new UsageError('endpoints set needs an endpoint');
      return call(target, 'PUT', `/endpoints/${encodeURIComponent(endpoint)}`, capabilitiesFrom(rest));
    case 'reset':
      if (!endpoint) throw new UsageError('endpoints reset needs an endpoint');
      return call(target, 'DELETE', `/endpoints/${encodeURIComponent(endpoint)}`);
    default:
      throw new UsageError(`unknown endpoints subcommand ${verb ?? '(none)'}`);
  }
};

const main = async (argv: readonly string[]): Promise<number> => {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { url: { type: 'string' }, token: { type: 'string' }, tenant: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: false,
  });
  // Settings flags (--AllowCallPark true) are positional pairs to parseArgs in non-strict mode: take them back in order.
  const rest = argv.filter((arg, i) => !['--url', '--token', '--tenant'].includes(arg) && !['--url', '--token', '--tenant'].includes(argv[i - 1] ?? ''));
  const [group, ...args] = rest;
  if (values.help || group === undefined) {
    console.log(usage);
    return group === undefined && !values.help ? 2 : 0;
  }
  const options = { url: values.url as string | undefined, token: values.token as string | undefined, tenant: values.tenant as string | undefined };
  switch (group) {
    case 'policy':
      return policy(await targetFrom(options), args);
    case 'endpoints':
      return endpoints(await targetFrom(options), args);
    case 'projections':
      if (args[0] !== 'rebuild') throw new UsageError('projections takes one subcommand: rebuild');
      return rebuildProjections(process.env, args[1]);
    default:
      throw new UsageError(`unknown command ${group}${positionals.length ? '' : ''}`);
  }
};

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`callpark: ${error.message}\n\n${usage}`);
      process.exit(2);
    }
    console.error(`callpark: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
