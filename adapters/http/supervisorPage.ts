/**
 * The supervisors' page: plain HTML, one ES module and one style sheet, served as they are from
 * `adapters/http/supervisor/` (no build step). The files hold no data: everything the page shows
 * it reads from the API with the token the supervisor gives it.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply } from 'fastify';

export const supervisorAssets = {
  'index.html': 'text/html; charset=utf-8',
  'board.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
} as const;
export type SupervisorAsset = keyof typeof supervisorAssets;

/**
 * The folder of the page's files: next to this module when it runs from source, and in the
 * source tree when it runs compiled from `dist/` (tsc copies no static files).
 */
export const supervisorFolder = (): string => {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const candidates = [join(here, 'supervisor'), join(here, '..', '..', '..', 'adapters', 'http', 'supervisor')];
  const found = candidates.find((folder) => existsSync(join(folder, 'index.html')));
  if (found === undefined) throw new Error(`The supervisors' page is missing: looked in ${candidates.join(' and ')}.`);
  return found;
};

/** What the page may load and where it may connect: itself only. */
const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export const DEFAULT_LONG_WAIT_SECONDS = 120;

/** What the service tells the page: the tenant-wide default of the long-wait threshold. */
export interface PageSettings {
  readonly longWaitSeconds: number;
}

/** The page with the service's settings in its `<body data-…>` attributes (a whole number only: nothing else is written in). */
const withSettings = (html: Buffer, settings: PageSettings): Buffer =>
  Buffer.from(html.toString('utf8').replace('data-long-wait-seconds="120"', `data-long-wait-seconds="${Math.trunc(settings.longWaitSeconds)}"`), 'utf8');

export const sendSupervisorAsset = async (reply: FastifyReply, folder: string, asset: SupervisorAsset, settings?: PageSettings): Promise<FastifyReply> => {
  const file = await readFile(join(folder, asset));
  const body = asset === 'index.html' && settings !== undefined ? withSettings(file, settings) : file;
  return reply
    .type(supervisorAssets[asset])
    .header('cache-control', 'no-cache')
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .send(body);
};

export const isSupervisorAsset = (name: string): name is SupervisorAsset => Object.hasOwn(supervisorAssets, name);
