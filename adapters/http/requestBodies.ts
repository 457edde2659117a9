/**
 * The codecs of the request bodies that are neither signaling messages nor the domain's own types:
 * decoded by their routes (administrationRoutes.ts, supervisorRoutes.ts) and described by the
 * OpenAPI document (openapiSchemas.ts), which thus depends on no route.
 */
import * as t from 'io-ts/lib/index.js';
import { closed } from '../../domain/codec/codec.js';
import { UserId } from '../../domain/identifiers.js';
import { PolicyIdentity } from '../../domain/parkPolicy.js';

/** Grant-CsTeamsCallParkPolicy's body: the policy, or null to take the grant away. */
export const Grant = closed('Grant', { policy: t.union([PolicyIdentity, t.null]) });

/** Who acts: the supervisor's own user id, recorded on the event. */
export const SupervisorAction = closed('SupervisorAction', { supervisor: UserId });
