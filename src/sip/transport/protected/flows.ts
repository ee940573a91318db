/**
 * The pure vocabulary of the protected transport (no I/O): how UDP responses flow over the SAs
 * (TS 24.229 §5.1.1.2.2, SPEC R-SA-3) and which SA protected a message (R-SA-4 binds identities
 * to it). Configuration parsers and node cores import these without loading any socket code.
 */
import type { MessageProtection } from '../../message/index.js';

/**
 * UDP response flow over the SAs: `client-to-server` (TS 24.229 §5.1.1.2.2, the default) or the
 * Rel-5 `server-to-client` pairing.
 */
export type ResponseFlow = 'client-to-server' | 'server-to-client';
export const RESPONSE_FLOWS: readonly ResponseFlow[] = ['client-to-server', 'server-to-client'];

/** Which SA protected a received message (TS 33.203 §7.1): the message's `protection` field. */
export type Protection = MessageProtection;

