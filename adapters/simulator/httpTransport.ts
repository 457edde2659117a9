/**
 * The simulator over HTTP: each message POSTed to /v1/signaling with the bearer token, its answer
 * handed to the model; and call park enabled per tenant through the administration API
 * (Set-CsTeamsCallParkPolicy -Identity Global -AllowCallPark $true).
 */
import { fetchService } from '../runtime/serviceTarget.js';
import type { CallModel } from './callModel.js';
import type { Transport } from './kafkaTransport.js';
import type { Tally } from './tally.js';

const headers = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' });

const bodyOf = async (response: Response): Promise<Record<string, unknown>> => {
  try {
    const body = (await response.json()) as unknown;
    return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};

export const httpTransport = (url: string, token: string, tally: Tally, model: Pick<CallModel, 'onAnswer'>): Transport => {
  const pending = new Set<Promise<void>>();
  return {
    send: (message) => {
      const request = fetch(`${url}/v1/signaling`, { method: 'POST', headers: headers(token), body: JSON.stringify(message), signal: AbortSignal.timeout(30_000) })
        .then(async (response) => model.onAnswer(message, response.status, await bodyOf(response)))
        .catch((error: unknown) => tally.failed(error instanceof Error ? error.name : 'error'))
        .finally(() => pending.delete(request));
      pending.add(request);
    },
    close: async () => {
      await Promise.all([...pending]);
    },
  };
};

/** Allow call park in each tenant's Global policy; answers one line per tenant. */
export const enablePark = async (adminUrl: string, token: string, tenants: readonly string[], parkTimeoutSeconds: number | undefined): Promise<string[]> => {
  const settings = { allowCallPark: true, ...(parkTimeoutSeconds === undefined ? {} : { parkTimeoutSeconds }) };
  return Promise.all(
    tenants.map(async (tenantId) => {
      try {
        const response = await fetchService(`${adminUrl}/v1/tenants/${encodeURIComponent(tenantId)}/policies/Global`, {
          method: 'PATCH',
          headers: headers(token),
          body: JSON.stringify(settings),
          signal: AbortSignal.timeout(30_000),
        });
        const body = await bodyOf(response);
        return `  ${tenantId}: ${response.status} ${String(body.outcome ?? body.reason ?? body.title ?? '')}`;
      } catch (error) {
        return `  ${tenantId}: ${error instanceof Error ? error.message : String(error)}`;
      }
    }),
  );
};
