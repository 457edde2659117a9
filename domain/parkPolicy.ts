/**
 * Park policies: Teams' TeamsCallParkPolicy merged with Lync's orbit range and CPS settings.
 * Every setting has its default and its range here, and nowhere else.
 */
import * as t from 'io-ts/lib/index.js';
import { closed, oneOf, text, withShape } from './codec/codec.js';

export const GLOBAL_POLICY = 'Global';

/** A policy's identity: `Global`, or a name (`Tag:Name`, as the cmdlets write it, means `Name`). */
const identityPattern = /^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$/;
export const PolicyIdentity = withShape(
  new t.Type<string, string, unknown>(
    'PolicyIdentity',
    (u): u is string => typeof u === 'string' && identityPattern.test(u),
    (u, context) => {
      const raw = typeof u === 'string' ? u.replace(/^Tag:/, '') : u;
      return typeof raw === 'string' && identityPattern.test(raw)
        ? t.success(raw)
        : t.failure(u, context, 'expected a policy identity: letters, digits, space, "_", "." or "-", at most 64 characters, optionally written "Tag:Name"');
    },
    t.identity,
  ),
  { kind: 'text', maxLength: 68, pattern: `^(Tag:)?${identityPattern.source.slice(1)}` },
);

export const OrbitAllocation = oneOf('OrbitAllocation', ['sequential', 'lowest-free', 'random']);
export type OrbitAllocation = t.TypeOf<typeof OrbitAllocation>;

export const OrbitPrefix = oneOf('OrbitPrefix', ['', '*', '#']);
export type OrbitPrefix = t.TypeOf<typeof OrbitPrefix>;

/** `voicemail`, `disconnect`, or a `sip:` URI. */
export const Fallback = text('Fallback', 512);
export type Fallback = string;

const settingsProps = {
  allowCallPark: t.boolean,
  pickupRangeStart: t.number,
  pickupRangeEnd: t.number,
  orbitPrefix: OrbitPrefix,
  parkTimeoutSeconds: t.number,
  ringBackSeconds: t.number,
  maxRingBackAttempts: t.number,
  fallback: Fallback,
  musicOnHold: t.boolean,
  orbitAllocation: OrbitAllocation,
  orbitReuseQuarantineSeconds: t.number,
  allowDirectedPark: t.boolean,
  description: t.string,
};

/** A policy's full settings, as stored in its events and frozen into every park (I5). */
export const PolicySettings = closed('PolicySettings', settingsProps);
export type PolicySettings = t.TypeOf<typeof PolicySettings>;

/** The settings a New- or Set- command names; the others keep their value (or default). */
export const PolicySettingsChange = closed('PolicySettingsChange', {}, settingsProps);
export type PolicySettingsChange = t.TypeOf<typeof PolicySettingsChange>;

export type SettingName = keyof PolicySettings;

export const defaultSettings: PolicySettings = {
  allowCallPark: false,
  pickupRangeStart: 10,
  pickupRangeEnd: 99,
  orbitPrefix: '',
  parkTimeoutSeconds: 300,
  ringBackSeconds: 30,
  maxRingBackAttempts: 1,
  fallback: 'voicemail',
  musicOnHold: true,
  orbitAllocation: 'sequential',
  orbitReuseQuarantineSeconds: 60,
  allowDirectedPark: false,
  description: '',
};

/** The whole-number settings and their ranges (DOMAIN.md, "Park policy settings"). */
export const settingRanges = {
  pickupRangeStart: { min: 10, max: 9999 },
  pickupRangeEnd: { min: 10, max: 9999 },
  parkTimeoutSeconds: { min: 10, max: 1800 },
  ringBackSeconds: { min: 5, max: 300 },
  maxRingBackAttempts: { min: 1, max: 10 },
  orbitReuseQuarantineSeconds: { min: 0, max: 3600 },
} as const satisfies Partial<Record<SettingName, { min: number; max: number }>>;

export const MAX_ORBITS_PER_RANGE = 10_000;
export const MAX_DESCRIPTION_LENGTH = 1024;

export interface SettingProblem {
  readonly setting: SettingName;
  readonly message: string;
}

const isSipUri = (value: string): boolean => /^sips?:[^\s]+$/.test(value);

/** Every way the settings break their rules, each in a sentence naming the setting. */
export const settingProblems = (settings: PolicySettings): SettingProblem[] => {
  const problems: SettingProblem[] = [];
  for (const [name, { min, max }] of Object.entries(settingRanges) as [keyof typeof settingRanges, { min: number; max: number }][]) {
    const value = settings[name];
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push({ setting: name, message: `${name} must be a whole number from ${min} to ${max}; ${value} is not.` });
    }
  }
  const { pickupRangeStart: start, pickupRangeEnd: end } = settings;
  if (Number.isInteger(start) && Number.isInteger(end) && start >= end) {
    problems.push({ setting: 'pickupRangeEnd', message: `pickupRangeStart (${start}) must be lower than pickupRangeEnd (${end}).` });
  } else if (end - start + 1 > MAX_ORBITS_PER_RANGE) {
    problems.push({ setting: 'pickupRangeEnd', message: `A range holds at most ${MAX_ORBITS_PER_RANGE} orbits; ${start} to ${end} holds ${end - start + 1}.` });
  }
  if (settings.orbitPrefix !== '' && String(start).length !== String(end).length) {
    problems.push({
      setting: 'orbitPrefix',
      message: `With the prefix "${settings.orbitPrefix}" orbits have a fixed width, so pickupRangeStart (${start}) and pickupRangeEnd (${end}) must have as many digits.`,
    });
  }
  if (settings.fallback !== 'voicemail' && settings.fallback !== 'disconnect' && !isSipUri(settings.fallback)) {
    problems.push({ setting: 'fallback', message: `fallback must be "voicemail", "disconnect" or a sip: URI; "${settings.fallback}" is none of them.` });
  }
  if (settings.description.length > MAX_DESCRIPTION_LENGTH) {
    problems.push({ setting: 'description', message: `description must be at most ${MAX_DESCRIPTION_LENGTH} characters.` });
  }
  return problems;
};

/** Apply a change to settings, keeping what it does not name. */
export const applyChange = (settings: PolicySettings, change: PolicySettingsChange): PolicySettings => ({ ...settings, ...change });

/** The names of the settings whose value a change actually changes. */
export const changedSettings = (before: PolicySettings, after: PolicySettings): SettingName[] =>
  (Object.keys(after) as SettingName[]).filter((name) => before[name] !== after[name]);
