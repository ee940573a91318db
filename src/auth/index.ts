/** `imsec/aka`: Milenage (TS 35.206), AKA vectors, SQN management and the ISIM (TS 33.102), HTTP Digest with AKAv1/AKAv2 (RFC 2617, 7616, 3310, 4169). */
export * from './milenage/index.js';
export * from './aka/index.js';
export * from './digest/index.js';
