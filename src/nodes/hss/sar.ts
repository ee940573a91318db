/**
 * The HSS's SAR procedure (TS 29.228 §6.1.2.1): the S-CSCF registers, de-registers, or fetches
 * the profile of an identity and its implicit set; authentication failure and timeout put the
 * registration back (R-AKA-8). Pure: the store is the injected one of the context.
 */
import { CxResult, ServerAssignmentType, UserDataAlreadyAvailable, buildSaa, parseSar, type DiameterMessage, type DiameterResult } from '../../diameter/index.js';
import type { PublicIdentity } from '../../store/index.js';
import type { CxContext } from './cx-context.js';

const DEREGISTRATIONS: ReadonlySet<number> = new Set([
  ServerAssignmentType.TIMEOUT_DEREGISTRATION,
  ServerAssignmentType.USER_DEREGISTRATION,
  ServerAssignmentType.TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME,
  ServerAssignmentType.USER_DEREGISTRATION_STORE_SERVER_NAME,
  ServerAssignmentType.ADMINISTRATIVE_DEREGISTRATION,
  ServerAssignmentType.DEREGISTRATION_TOO_MUCH_DATA,
]);

/** Answers a SAR (TS 29.228 §6.1.2.1). */
export async function answerSar(cx: CxContext, req: DiameterMessage): Promise<DiameterMessage> {
  const r = parseSar(req);
  cx.counters.sar++;
  const answer = (result: DiameterResult, extra: { userName?: string; userData?: Uint8Array; serverName?: string; errorMessage?: string } = {}): DiameterMessage =>
    buildSaa(req, { ...cx.me, result: cx.count('SAA', result), ...extra });
  const type = r.serverAssignmentType;
  try {
    // 1–2. Which identities: the Public-Identity AVPs, else those of the User-Name.
    let impus = r.publicIdentities;
    if (impus.length === 0) {
      if (r.userName === undefined) return answer(CxResult.MISSING_AVP, { errorMessage: 'SAR names neither a Public-Identity nor a User-Name' });
      const sub = await cx.store.getSubscriber(r.userName);
      if (sub === null) return answer(CxResult.ERROR_USER_UNKNOWN);
      impus = DEREGISTRATIONS.has(type) || type === ServerAssignmentType.AUTHENTICATION_FAILURE || type === ServerAssignmentType.AUTHENTICATION_TIMEOUT
        ? sub.impus.filter((u) => u.scscfName === r.serverName).map((u) => u.impu)
        : sub.impus.filter((u) => u.isDefault).map((u) => u.impu);
      if (impus.length === 0) return answer(CxResult.SUCCESS, { userName: r.userName });
    }
    const pubs: PublicIdentity[] = [];
    for (const impu of impus) {
      if (r.userName !== undefined) {
        const id = await cx.identify(r.userName, impu);
        if (!id.ok) return answer(id.result);
        pubs.push(id.pub);
      } else {
        const pub = await cx.store.getPublicIdentity(impu);
        if (pub === null) return answer(CxResult.ERROR_USER_UNKNOWN);
        pubs.push(pub);
      }
    }
    const impi = pubs[0].impi;
    const base = { userName: impi };
    const withData = async (result: DiameterResult): Promise<DiameterMessage> =>
      r.userDataAlreadyAvailable === UserDataAlreadyAvailable.USER_DATA_ALREADY_AVAILABLE ? answer(result, base) : answer(result, { ...base, userData: await cx.userData(impi, pubs) });
    const sets = distinctSets(pubs);
    cx.scscfHosts.set(r.serverName, r.originHost);
    switch (type) {
      case ServerAssignmentType.REGISTRATION:
      case ServerAssignmentType.RE_REGISTRATION:
        // The identity (with its implicit set) is registered at this S-CSCF; the profile goes back.
        for (const p of sets) await cx.setRegistration(p.impu, { state: 'REGISTERED', scscfName: r.serverName });
        return withData(CxResult.SUCCESS);
      case ServerAssignmentType.UNREGISTERED_USER: {
        // A terminating request for an unregistered user: this S-CSCF keeps the profile, unless another one holds it.
        const held = pubs.find((p) => p.state !== 'NOT_REGISTERED' && p.scscfName !== null && p.scscfName !== r.serverName);
        if (held) return answer(CxResult.ERROR_IDENTITY_ALREADY_REGISTERED, { ...base, serverName: held.scscfName as string });
        for (const p of sets) if (p.state !== 'REGISTERED') await cx.setRegistration(p.impu, { state: 'UNREGISTERED', scscfName: r.serverName });
        return withData(CxResult.SUCCESS);
      }
      case ServerAssignmentType.TIMEOUT_DEREGISTRATION:
      case ServerAssignmentType.USER_DEREGISTRATION:
      case ServerAssignmentType.ADMINISTRATIVE_DEREGISTRATION:
      case ServerAssignmentType.DEREGISTRATION_TOO_MUCH_DATA:
      case ServerAssignmentType.TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME:
      case ServerAssignmentType.USER_DEREGISTRATION_STORE_SERVER_NAME: {
        // Only the S-CSCF serving the user may de-register it.
        if (pubs.some((p) => p.scscfName !== null && p.scscfName !== r.serverName)) {
          return answer(CxResult.UNABLE_TO_COMPLY, { ...base, errorMessage: 'the identity is assigned to another S-CSCF' });
        }
        const keep = type === ServerAssignmentType.TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME || type === ServerAssignmentType.USER_DEREGISTRATION_STORE_SERVER_NAME;
        // *_STORE_SERVER_NAME: the HSS keeps the name and the identity becomes "unregistered" (§6.1.2).
        for (const p of sets) await cx.setRegistration(p.impu, keep ? { state: 'UNREGISTERED', scscfName: r.serverName } : { state: 'NOT_REGISTERED', scscfName: null });
        return answer(CxResult.SUCCESS, base);
      }
      case ServerAssignmentType.AUTHENTICATION_FAILURE:
      case ServerAssignmentType.AUTHENTICATION_TIMEOUT: {
        // R-AKA-8: put the registration back where it was before this authentication began;
        // a registered user stays registered (R-AKA-7).
        if (pubs.some((p) => p.state === 'PENDING' && p.scscfName !== r.serverName)) {
          return answer(CxResult.UNABLE_TO_COMPLY, { ...base, errorMessage: 'the pending authentication belongs to another S-CSCF' });
        }
        for (const p of sets) await cx.store.revertPending(p.impu);
        return answer(CxResult.SUCCESS, base);
      }
      case ServerAssignmentType.NO_ASSIGNMENT:
        // The S-CSCF only wants the profile; it must be the one assigned.
        if (pubs.some((p) => p.scscfName !== r.serverName)) return answer(CxResult.UNABLE_TO_COMPLY, { ...base, errorMessage: 'the S-CSCF is not the one assigned' });
        return withData(CxResult.SUCCESS);
      default:
        return answer(CxResult.ERROR_IN_ASSIGNMENT_TYPE, base);
    }
  } catch (err) {
    return answer(cx.storeFailure('SAR', err));
  }
}

/** One representative identity per implicit set (store calls act on the whole set). */
function distinctSets(pubs: readonly PublicIdentity[]): PublicIdentity[] {
  const seen = new Set<string>();
  return pubs.filter((p) => {
    const key = `${p.impi}\u0000${p.irs}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
