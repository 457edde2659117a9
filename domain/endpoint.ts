/**
 * Endpoints, the clients and devices users act from, and what each may do with call park.
 * The matrix is DOMAIN.md's "Who can do what"; a tenant may override any row of it.
 */
import * as t from 'io-ts/lib/index.js';
import { closed, oneOf } from './codec/codec.js';

export const endpoints = [
  'teams-desktop',
  'teams-mac',
  'teams-web',
  'teams-mobile',
  'teams-ip-phone',
  'sfb-ip-phone',
  'lync-2013',
  'lync-2010',
  'lync-2010-attendant',
  'lync-phone-edition',
  'common-area-phone',
  'pbx-phone',
  'pstn',
  'mobile',
] as const;
export const Endpoint = oneOf('Endpoint', endpoints);
export type Endpoint = t.TypeOf<typeof Endpoint>;

export const Capabilities = closed('Capabilities', { park: t.boolean, retrieve: t.boolean, ringBack: t.boolean });
export type Capabilities = t.TypeOf<typeof Capabilities>;

const can = (park: boolean, retrieve: boolean, ringBack: boolean): Capabilities => ({ park, retrieve, ringBack });

/** The default matrix, with its sources in DOMAIN.md. */
export const defaultCapabilities: Readonly<Record<Endpoint, Capabilities>> = {
  'teams-desktop': can(true, true, true),
  'teams-mac': can(true, true, true),
  'teams-web': can(true, true, true),
  'teams-mobile': can(true, true, true),
  'teams-ip-phone': can(true, true, true),
  'sfb-ip-phone': can(false, false, false),
  'lync-2013': can(true, true, true),
  'lync-2010': can(true, true, true),
  'lync-2010-attendant': can(true, true, true),
  'lync-phone-edition': can(true, true, true),
  'common-area-phone': can(false, true, false),
  'pbx-phone': can(false, true, false),
  pstn: can(false, false, false),
  mobile: can(false, false, false),
};

/** What an endpoint may do in a tenant: the tenant's override of its row, else the default. */
export const capabilitiesOf = (endpoint: Endpoint, overrides: ReadonlyMap<Endpoint, Capabilities>): Capabilities =>
  overrides.get(endpoint) ?? defaultCapabilities[endpoint];

/** Only audio calls can be parked (Lync seed); the other kinds are named so they can be refused. */
export const Media = oneOf('Media', ['audio', 'video', 'im', 'conference']);
export type Media = t.TypeOf<typeof Media>;
