/** The Cx/Dx application (TS 29.228 procedures, TS 29.229 protocol): typed builders and parsers for UAR/UAA, SAR/SAA, LIR/LIA, MAR/MAA, RTR/RTA, PPR/PPA. */
export * from './constants.js';
export * from './common.js';
export * from './groups.js';
export * from './uar.js';
export * from './sar.js';
export * from './lir.js';
export * from './mar.js';
export * from './rtr.js';
export * from './ppr.js';
export * from './user-data.js';
