/**
 * The subscribers `imsec core` provisions into its HSS at start, and the two built-in demo
 * subscribers. Each has an IMPI, a SIP IMPU and a tel IMPU in one implicit registration set
 * (TS 23.228 §4.3.3.3: registering one registers both, R-REG-2), and the USIM keys K and OP.
 *
 * The demo keys are K and OP of the published test sets 1 and 3 of TS 35.208 §4 (Milenage): public
 * lab values: they are configuration, shown nowhere (the printed configuration says "[secret]").
 */
import { changeSubscriber, provisionSubscriber } from '../hss/index.js';
import type { HssStore } from '../../store/index.js';

/** A subscriber of the core configuration (hex keys, exactly one of op / opc). */
export interface CoreSubscriber {
  impi: string;
  /** Public identities, the first being the default; all in implicit set 1. */
  impus: string[];
  k: string;
  op?: string;
  opc?: string;
  /** 4 hex digits, default 8000 (separation bit set, TS 33.102 Annex F). */
  amf?: string;
}

/** alice and bob of the demo (K and OP of TS 35.208 test sets 1 and 3). */
export const DEMO_SUBSCRIBERS: readonly Readonly<CoreSubscriber>[] = Object.freeze([
  Object.freeze({
    impi: 'alice@ims.lab',
    impus: Object.freeze(['sip:alice@ims.lab', 'tel:+15550101']) as unknown as string[],
    k: '465b5ce8b199b49faa5f0a2ee238a6bc',
    op: 'cdc202d5123e20f62b6d676ac72cb318',
    amf: '8000',
  }),
  Object.freeze({
    impi: 'bob@ims.lab',
    impus: Object.freeze(['sip:bob@ims.lab', 'tel:+15550102']) as unknown as string[],
    k: 'fec86ba6eb707ed08905757b1bb44b8f',
    op: 'dbc59adcb6f9a0ef735477b7fadf8374',
    amf: '8000',
  }),
]);

/** The demo subscriber with this IMPI (its keys are needed by a UE of the demo). */
export function demoSubscriber(impi: string): Readonly<CoreSubscriber> | undefined {
  return DEMO_SUBSCRIBERS.find((s) => s.impi === impi);
}

/** The external form the HSS provisioning takes (nodes/hss/provisioning.ts). */
function input(s: CoreSubscriber): Record<string, unknown> {
  return { impus: [...s.impus], k: s.k, ...(s.op !== undefined ? { op: s.op } : { opc: s.opc }), amf: s.amf ?? '8000' };
}

/**
 * Creates each subscriber, or brings an existing one up to date (keys, AMF, IMPUs; the SQN state
 * and the registration state of IMPUs that stay are kept, so a restart does not disturb USIMs).
 * Resolves to what was done per IMPI.
 */
export async function provisionCoreSubscribers(store: HssStore, list: readonly CoreSubscriber[]): Promise<{ impi: string; action: 'created' | 'updated' }[]> {
  const out: { impi: string; action: 'created' | 'updated' }[] = [];
  for (const s of list) {
    if ((await store.getSubscriber(s.impi)) === null) {
      await provisionSubscriber(store, { impi: s.impi, ...input(s) });
      out.push({ impi: s.impi, action: 'created' });
    } else {
      await changeSubscriber(store, s.impi, input(s));
      out.push({ impi: s.impi, action: 'updated' });
    }
  }
  return out;
}
