/** `imsec/aka`: Milenage (TS 35.206), AKA vectors, SQN management and the ISIM (TS 33.102). */
export * from './milenage/index.js';
export * from './aka/index.js';
