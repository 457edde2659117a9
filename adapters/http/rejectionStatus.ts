/**
 * The HTTP status of every domain rejection, in one table. The type makes it exhaustive: a new
 * reason fails to compile until it has its status here.
 */
import type { RejectionReason } from '../../domain/rejection.js';

export const rejectionStatus: Readonly<Record<RejectionReason, number>> = {
  // Not yours to do: the policy, the endpoint or the organisation forbids it.
  'call-park-not-allowed': 403,
  'endpoint-cannot-park': 403,
  'endpoint-cannot-retrieve': 403,
  'federated-user': 403,
  'directed-park-not-allowed': 403,
  'orbit-outside-your-policy': 403,
  // Nothing there.
  'no-call-on-orbit': 404,
  'policy-not-found': 404,
  // The state says no: the call or the policy is not where the request expects it.
  'call-already-parked': 409,
  'session-id-in-use': 409,
  'orbit-occupied': 409,
  'call-not-parked': 409,
  'no-ring-back-in-progress': 409,
  'ring-back-in-progress': 409,
  'endpoint-cannot-ring-back': 409,
  'policy-already-exists': 409,
  'policy-has-parked-calls': 409,
  // Well formed, but not a thing the domain can take.
  'media-not-parkable': 422,
  'invalid-orbit-code': 422,
  'invalid-setting': 422,
  // Every orbit is busy: try later (with a new eventId; the same one replays this answer).
  'no-free-orbit': 503,
};

/** Rejections that are worth trying again later, with the Retry-After they carry. */
export const retryLater: ReadonlySet<RejectionReason> = new Set<RejectionReason>(['no-free-orbit']);
