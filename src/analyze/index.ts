/**
 * Capture analysis (SPEC R-LAB-2, `imsec analyze`): read pcap/pcapng, find the keys in the
 * capture (Cx MAA, the S-CSCF's 401) or a keys file, open every ESP packet, rebuild each
 * registration and its SA sets, check the rules of SPEC.md, and report as text, JSON or HTML.
 */
export * from './types.js';
export * from './rules.js';
export * from './findings.js';
export * from './keys-file.js';
export * from './key-ring.js';
export * from './model.js';
export * from './packet-decoder.js';
export * from './checker.js';
export * from './analyzer.js';
export * from './report-text.js';
export * from './report-json.js';
export * from './report-html.js';
