/**
 * Identifiers a SIP element generates, all from the injected {@link Rng} so tests replay exactly:
 * branch (RFC 3261 §8.1.1.7), tags (§19.3) and Call-ID (§8.1.1.4).
 */
import { randomToken, type Rng } from '../../common/index.js';
import { BRANCH_MAGIC } from '../headers/index.js';

/**
 * §8.1.1.7: a branch unique in space and time, starting with the magic cookie `z9hG4bK`. `tag`
 * (token characters) goes right after the cookie: a node of several processes marks its
 * branches with the process that owns the transaction, so a response finds it (§17.1.3 matches
 * on the whole branch; nothing else reads it).
 */
export function newBranch(rng: Rng, tag = ''): string {
  return `${BRANCH_MAGIC}${tag}${randomToken(rng, 10)}`;
}

/** §19.3: a tag with at least 32 bits of randomness (we use 64). */
export function newTag(rng: Rng): string {
  return randomToken(rng, 8);
}

/** §8.1.1.4: a globally unique Call-ID; `host` (optional) is appended as `@host`. */
export function newCallId(rng: Rng, host?: string): string {
  const id = randomToken(rng, 16);
  return host ? `${id}@${host}` : id;
}
