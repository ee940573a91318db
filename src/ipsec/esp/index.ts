/**
 * IPsec ESP (RFC 4303) for IMS access security (TS 33.203): transforms, Annex I key expansion,
 * the SA with seal/open and its anti-replay window, and the Wireshark key export.
 */
export * from './algorithms.js';
export * from './errors.js';
export * from './keys.js';
export * from './integrity.js';
export * from './replay-window.js';
export * from './esp-header.js';
export * from './esp-sa.js';
export * from './wireshark.js';
