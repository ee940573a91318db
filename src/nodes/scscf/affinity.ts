/**
 * Which worker of a several-process S-CSCF owns a message (`imsec scscf --workers N`). The
 * workers share one UDP socket, and the kernel hands each datagram to whichever worker reads
 * first; the state a message needs lives in one worker only, so the one that read it passes it
 * on when it is another's:
 * - a registration's state (the vectors held and the pending challenge of TS 33.203 §6.1, the
 *   per-user serialisation of TS 24.229 §5.4.1, the bindings' expiry, the reg-event dialogs of
 *   RFC 3680) belongs to the worker its AOR hashes to. REGISTER is keyed by To (RFC 3261 §10.2:
 *   the address-of-record), and SUBSCRIBE by the registration holding its To (the reg event's
 *   resource, TS 24.229 §5.4.2.1.1: any identity of the implicit set), else by To;
 * - a response belongs to the worker whose client transaction sent the request: each worker
 *   marks its branches (RFC 3261 §8.1.1.7 lets anything follow the magic cookie);
 * - any other request by its Call-ID, so that retransmissions, its CANCEL and its ACK (§9.1,
 *   §17.2.3: same Call-ID) meet the same server transaction.
 *
 * Pure: no I/O; the relay (relay.ts) moves the datagrams.
 */
import { impuKey } from '../common/index.js';
import { branchOf, callIdOf, toOf } from '../../sip/headers/index.js';
import type { SipMessage } from '../../sip/message/index.js';

/** The branch tag of a worker: `z9hG4bK` + `-w<i>-` + random token. */
export function branchTagOf(worker: number): string {
  return `-w${worker}-`;
}

const TAGGED = /^z9hG4bK-w(\d{1,3})-/;

/** The worker whose tag a branch carries, or undefined. */
export function workerOfBranch(branch: string | undefined): number | undefined {
  const m = branch === undefined ? null : TAGGED.exec(branch);
  return m === null ? undefined : Number(m[1]);
}

/** FNV-1a (32 bits) of a key, modulo the number of workers: the same key, the same worker. */
export function workerOfKey(key: string, workers: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % workers;
}

/** The worker that owns a registration (by its AOR, as REGISTER's To). */
export function workerOfAor(aor: string, workers: number): number {
  return workerOfKey(impuKey(aor) ?? aor, workers);
}

/**
 * The worker that owns `msg` among `workers`, or undefined when any may take it (a response
 * with no tag of ours: the stack drops it as stray, §18.1.2). `aorOf` maps the identity key
 * (impuKey) of a SUBSCRIBE's To to the AOR of the registration holding it, when one is known.
 */
export function ownerOf(msg: SipMessage, workers: number, aorOf: (to: string) => string | undefined): number | undefined {
  if (msg.kind === 'response') {
    const w = workerOfBranch(branchOf(msg));
    return w !== undefined && w < workers ? w : undefined;
  }
  if (msg.method === 'REGISTER' || msg.method === 'SUBSCRIBE') {
    const to = toOf(msg)?.uri;
    const key = to === undefined ? undefined : impuKey(to);
    if (key !== undefined) {
      const aor = msg.method === 'SUBSCRIBE' ? aorOf(key) : undefined;
      return aor !== undefined ? workerOfAor(aor, workers) : workerOfKey(key, workers);
    }
  }
  return workerOfKey(callIdOf(msg) ?? '', workers);
}
