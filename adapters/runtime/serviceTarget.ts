/**
 * Where the service is and as whom to talk to it, for the programs that call its API from a
 * terminal (`callpark`, `npm run simulate`): the same flags and variables, the same defaults.
 *
 * - the URL: the flag, else CALLPARK_URL, else the local service on PORT (8080);
 * - the token: the flag, else CALLPARK_TOKEN, else the admin token the embedded service keeps
 *   under CALLPARK_DATA_DIR (./data), which it writes on its first start with no tokens configured.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/** The file the service writes its generated admin token to, under its data folder. */
export const ADMIN_TOKEN_FILE = 'admin-token';

export const adminTokenFileOf = (env: Env): string => join(env.CALLPARK_DATA_DIR || './data', ADMIN_TOKEN_FILE);

export const serviceUrlOf = (flag: string | undefined, env: Env): string => (flag ?? (env.CALLPARK_URL || `http://127.0.0.1:${env.PORT || '8080'}`)).replace(/\/+$/, '');

/** The token from the flag, CALLPARK_TOKEN or the admin-token file; undefined when none is to be had. */
export const tokenOf = async (flag: string | undefined, env: Env): Promise<string | undefined> => {
  const given = flag ?? (env.CALLPARK_TOKEN || undefined);
  if (given !== undefined) return given;
  const text = await readFile(adminTokenFileOf(env), 'utf8').catch(() => '');
  return text.trim() || undefined;
};

/** What to say when no token was found. */
export const noTokenMessage = (env: Env): string =>
  `give a token: --token TOKEN, CALLPARK_TOKEN, or run where the service keeps ${adminTokenFileOf(env)} (CALLPARK_DATA_DIR)`;

export class UnreachableServiceError extends Error {
  override readonly name = 'UnreachableServiceError';
}

/**
 * A fetch that names the service it could not reach: "fetch failed" says nothing about where.
 * Other failures pass through unchanged.
 */
export const fetchService = async (url: string, init: RequestInit): Promise<Response> => {
  try {
    return await fetch(url, init);
  } catch (error) {
    if (error instanceof TypeError) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? error.message;
      throw new UnreachableServiceError(`cannot reach the service at ${new URL(url).origin} (${why}): is it running there? Set --url or CALLPARK_URL.`);
    }
    throw error;
  }
};
