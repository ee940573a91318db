/** The implicit registration set the S-CSCF reads from the HSS's Cx User-Data. Pure. */
import { decodeImsSubscription } from '../../diameter/index.js';
import { impuKey } from '../common/index.js';

/**
 * The implicit registration set of `impu` from Cx User-Data (TS 29.228 §6.5.1.1; R-REG-2): the
 * non-barred identities of the ServiceProfile holding it, in the HSS's order. Without usable
 * User-Data the set is the identity alone. `barred` when the identity itself is barred.
 */
export function implicitSet(userData: string | null, impu: string): { impus: string[]; barred: boolean } {
  if (userData === null) return { impus: [impu], barred: false };
  let sub;
  try {
    sub = decodeImsSubscription(userData);
  } catch {
    return { impus: [impu], barred: false };
  }
  const k = impuKey(impu);
  for (const sp of sub.serviceProfiles) {
    const me = sp.publicIdentities.find((x) => impuKey(x.identity) === k);
    if (!me) continue;
    const impus = sp.publicIdentities.filter((x) => !x.barred).map((x) => x.identity);
    return { impus: impus.length > 0 ? impus : [impu], barred: me.barred };
  }
  return { impus: [impu], barred: false };
}
