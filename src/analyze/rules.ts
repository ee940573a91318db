/**
 * The catalogue of checks: each rule's stable name, its SPEC.md requirement, the clause of the
 * standard it follows and its severity. docs/analyze-json.md lists the same table.
 */
import type { Severity } from './types.js';

export interface Rule {
  readonly spec: string;
  readonly clause: string;
  readonly severity: Severity;
  readonly title: string;
}

export const RULES = {
  'secagree.verify-mismatch': { spec: 'R-SM-4', clause: 'RFC 3329 §2.3.1; TS 33.203 §7.2; TS 24.229 §5.1.1.4.2', severity: 'error', title: 'Security-Verify differs from the Security-Server sent (bid-down)' },
  'secagree.verify-missing': { spec: 'R-SM-4', clause: 'TS 24.229 §5.1.1.4.2; TS 33.203 §7.2', severity: 'error', title: 'protected REGISTER without Security-Verify' },
  'secagree.client-changed': { spec: 'R-SM-4', clause: 'TS 33.203 §7.2 (SM7), §7.3.2.3', severity: 'error', title: 'Security-Client changed between the first and the protected REGISTER' },
  'secagree.not-offered': { spec: 'R-SM-5', clause: 'TS 33.203 §7.3.2.2; RFC 3329 §2.3.1', severity: 'error', title: 'Security-Server chooses a mechanism the UE never offered' },
  'aka.keys-to-ue': { spec: 'R-AKA-6', clause: 'TS 24.229 §5.2.2.1, §7.2A.4; TS 33.203 §7.1', severity: 'error', title: 'ck/ik reach the UE in the 401' },
  'aka.nonce-mismatch': { spec: 'R-AKA-6', clause: 'RFC 3310 §3.2; TS 29.229 §6.3.14', severity: 'error', title: "401 nonce differs from the MAA's SIP-Authenticate" },
  'aka.response-mismatch': { spec: 'R-FAIL-1', clause: 'RFC 3310 §3.3; TS 33.203 §6.1.1', severity: 'error', title: 'digest response does not verify against XRES' },
  'aka.auts-malformed': { spec: 'R-FAIL-3', clause: 'RFC 3310 §3.4; TS 33.102 §6.3.3', severity: 'error', title: 'AUTS is not base64 of 14 bytes' },
  'sa.spi-reserved': { spec: 'R-SA-3', clause: 'RFC 4303 §2.1; TS 33.203 §7.1', severity: 'warning', title: 'SPI in the IANA-reserved range 1..255' },
  'sa.spi-shared': { spec: 'R-SA-3', clause: 'TS 33.203 §7.1 (reflection)', severity: 'error', title: 'uplink and downlink SAs share an SPI' },
  'sa.spi-reused': { spec: 'R-SA-3', clause: 'TS 33.203 §7.1; RFC 4301 §4.1', severity: 'error', title: "an inbound SPI already held by another registration's live SA at the same host" },
  'sa.wrong-sa': { spec: 'R-SA-3', clause: 'TS 33.203 §7.1', severity: 'error', title: "packet's ports do not match the SA its SPI names" },
  'sa.udp-flow': { spec: 'R-SA-3', clause: 'TS 24.229 §5.1.1.2.2; TS 33.203 §7.1', severity: 'warning', title: 'over UDP: UE sends from port_uc to port_ps and receives on port_us from port_pc' },
  'sa.tcp-response-connection': { spec: 'R-SA-3', clause: 'TS 24.229 §5.1.1.2.2; RFC 3261 §18.2.2', severity: 'error', title: "over TCP a response goes back on its request's connection" },
  'sa.source-mismatch': { spec: 'R-SA-9', clause: 'TS 33.203 §7.1; TS 24.229 §5.2.3', severity: 'error', title: 'protected REGISTER from another address than the SA' },
  'sa.impi-mismatch': { spec: 'R-SA-4', clause: 'TS 33.203 §7.1', severity: 'error', title: 'REGISTER on bound SAs for a different IMPI' },
  'sa.impu-not-bound': { spec: 'R-SA-4', clause: 'TS 33.203 §7.1; TS 24.229 §5.2.6.3.3', severity: 'error', title: 'protected request with an IMPU not registered on its SA (IMPU spoofing)' },
  'sa.lifetime': { spec: 'R-SA-7', clause: 'TS 24.229 §5.1.1.2.2, §5.1.1.4.2, Table 7.8.1', severity: 'warning', title: 'ESP on an SA set past its lifetime' },
  'rr.spi-not-new': { spec: 'R-RR-1', clause: 'TS 33.203 §7.3.3 (seed 001 §7.3.3)', severity: 'warning', title: 're-registration SA set reuses SPIs of the live set' },
  'rr.port-not-kept': { spec: 'R-RR-1', clause: 'TS 33.203 §7.4; TS 24.229 §5.1.1.4.2', severity: 'warning', title: 'UE must keep port_us and the P-CSCF port_ps across re-registration' },
  'rr.clear-register': { spec: 'R-RR-4', clause: 'TS 33.203 §7.4; TS 24.229 §5.2.2', severity: 'info', title: 'REGISTER in the clear while SAs exist (must be treated as not protected)' },
  'port.clear-on-protected': { spec: 'R-SA-5', clause: 'TS 33.203 §7.1; TS 24.229 §5.2.2.1, §5.1.1.2.1', severity: 'error', title: 'unprotected SIP on a protected port' },
  'port.clear-request': { spec: 'R-SA-5', clause: 'TS 24.229 §5.2.2.1', severity: 'warning', title: 'request other than REGISTER in the clear on the unprotected port while SAs exist' },
  'esp.icv': { spec: 'R-FAIL-1', clause: 'RFC 4303 §3.4.4; TS 33.203 §7.1', severity: 'error', title: 'ESP integrity check failed' },
  'esp.replay': { spec: 'R-SA-8', clause: 'RFC 4303 §3.4.3', severity: 'error', title: 'ESP sequence number replayed or left of the window' },
  'esp.malformed': { spec: 'R-SA-1', clause: 'RFC 4303 §2', severity: 'error', title: 'ESP packet malformed (length, padding)' },
  'esp.unknown-spi': { spec: 'R-SA-3', clause: 'TS 33.203 §7.1', severity: 'warning', title: 'ESP with an SPI no sec-agree negotiated' },
  'esp.no-keys': { spec: 'R-LAB-2', clause: 'TS 33.203 Annex I', severity: 'info', title: 'no CK/IK in the capture or keys file for these SAs: ESP not verified' },
  'fail.client-not-new': { spec: 'R-FAIL-2', clause: 'TS 24.229 §5.1.1.5.3; TS 33.203 §7.2', severity: 'warning', title: 'REGISTER after an authentication failure reuses the Security-Client (spi-c, spi-s, port-c must be new)' },
  'reg.integrity-protected': { spec: 'R-REG-4', clause: 'TS 24.229 §5.2.2.1, §7.2A.1', severity: 'error', title: 'integrity-protected value disagrees with how the REGISTER arrived' },
  'reg.answer-in-clear': { spec: 'R-SM-6', clause: 'TS 33.203 §7.2, §7.1', severity: 'error', title: 'answer to the 401 sent without ESP' },
  'reg.stalled': { spec: 'R-FAIL-4', clause: 'TS 33.203 §7.2; TS 24.229 §5.1.1.5, Table 7.8.1 (reg-await-auth)', severity: 'error', title: 'no protected REGISTER after the 401' },
} as const satisfies Record<string, Rule>;

export type RuleName = keyof typeof RULES;
