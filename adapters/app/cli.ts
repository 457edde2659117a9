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
 *   callpark session send-to-fallback <sessionId> --supervisor sam@contoso.com
 *   callpark session ring-parker <sessionId> --supervisor sam@contoso.com
 *   callpark projections rebuild [occupancy|audit_history|reporting|ring_back_timers]
 *
 * Where and as whom: --url (CALLPARK_URL; the local service on PORT by default), --token
 * (CALLPARK_TOKEN; else the admin token the embedded service keeps under CALLPARK_DATA_DIR),
 * --tenant (CALLPARK_TENANT).
 */
import { parseArgs } from 'node:util';
import { defaultSettings, type SettingName } from '../../domain/parkPolicy.js';
import { rebuildProjections } from './projectionRebuild.js';
import { fetchService, noTokenMessage, serviceUrlOf, tokenOf } from '../runtime/serviceTarget.js';

const usage = `usage:
  callpark policy new <identity> [--<Setting> <value> …]
  callpark policy set <identity> --<Setting> <value> [--<Setting> <value> …]
  callpark policy get [<identity>]
  callpark policy remove <identity>
  callpark policy grant <userId> <identity | Global | none>
  callpark endpoints get
  callpark endpoints set <endpoint> --park <bool> --retrieve <bool> --ringBack <bool>
  callpark endpoints reset <endpoint>
  callpark session send-to-fallback <sessionId> --supervisor <userId>
  callpark session ring-parker <sessionId> --supervisor <userId>
  callpark projections rebuild [<name>]
options: --url URL (CALLPARK_URL)  --token TOKEN (CALLPARK_TOKEN)  --tenant ID (CALLPARK_TENANT)
  (--name value or --name=value, anywhere on the line)
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

/** `--Name value` or `--Name=value` after the positional arguments, as settings. */
const settingsFrom = (args: readonly string[]): Record<string, unknown> => {
  const settings: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = splitOption(args[i]!);
    const name = settingNames.get(flag.replace(/^-{1,2}/, '').toLowerCase());
    if (!flag.startsWith('-') || name === undefined) throw new UsageError(`unknown setting ${flag}`);
    const raw = inline ?? args[++i];
    if (raw === undefined) throw new UsageError(`${flag} needs a value`);
    settings[name] = valueOf(name, raw);
  }
  return settings;
};

/** `--name=value` as its name and value; `--name` alone with no value. */
const splitOption = (arg: string): [string, string | undefined] => {
  const equals = arg.indexOf('=');
  return arg.startsWith('-') && equals > 0 ? [arg.slice(0, equals), arg.slice(equals + 1)] : [arg, undefined];
};

const globalOptions = ['url', 'token', 'tenant'] as const;
type GlobalOptions = Partial<Record<(typeof globalOptions)[number], string>>;

/**
 * Take --url, --token and --tenant (either form, anywhere) out of the arguments; the rest stays in
 * order for the subcommand, whose settings flags are its own.
 */
const takeGlobalOptions = (argv: readonly string[]): { options: GlobalOptions; rest: string[] } => {
  const options: GlobalOptions = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = splitOption(argv[i]!);
    const name = globalOptions.find((option) => flag === `--${option}`);
    if (name === undefined) {
      rest.push(argv[i]!);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
    options[name] = value;
  }
  return { options, rest };
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
  const response = await fetchService(`${target.url}/v1/tenants/${encodeURIComponent(target.tenant)}${path}`, {
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

const targetFrom = async (options: GlobalOptions): Promise<Target> => {
  const url = serviceUrlOf(options.url, process.env);
  if (!/^https?:\/\/[^\s/]+/.test(url)) throw new UsageError(`--url expects the service's base URL (http://host:port), got "${url}"`);
  const tenant = options.tenant ?? process.env.CALLPARK_TENANT;
  if (!tenant) throw new UsageError('name the tenant: --tenant ID or CALLPARK_TENANT');
  const token = await tokenOf(options.token, process.env);
  if (!token) throw new UsageError(noTokenMessage(process.env));
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

/** A supervisor's actions on a parked call: send it to its fallback now, ring the parker now. */
const session = async (target: Target, [verb, sessionId, ...rest]: string[]): Promise<number> => {
  if (verb !== 'send-to-fallback' && verb !== 'ring-parker') throw new UsageError(`unknown session subcommand ${verb ?? '(none)'}: send-to-fallback or ring-parker`);
  if (!sessionId) throw new UsageError(`session ${verb} needs a session id`);
  const { values } = parseArgs({ args: rest, options: { supervisor: { type: 'string' } } });
  const { supervisor } = values;
  if (!supervisor) throw new UsageError(`session ${verb} needs --supervisor <userId>: who acts is recorded`);
  return call(target, 'POST', `/sessions/${encodeURIComponent(sessionId)}/${verb}`, { supervisor });
};

const main = async (argv: readonly string[]): Promise<number> => {
  const { options, rest } = takeGlobalOptions(argv);
  const help = rest.some((arg) => arg === '--help' || arg === '-h');
  const [group, ...args] = rest;
  if (help || group === undefined) {
    console.log(usage);
    return help ? 0 : 2;
  }
  switch (group) {
    case 'policy':
      return policy(await targetFrom(options), args);
    case 'endpoints':
      return endpoints(await targetFrom(options), args);
    case 'session':
      return session(await targetFrom(options), args);
    case 'projections':
      if (args[0] !== 'rebuild') throw new UsageError('projections takes one subcommand: rebuild');
      return rebuildProjections(process.env, args[1]);
    default:
      throw new UsageError(`unknown command ${group}`);
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
