export { Aes128 } from './aes128.js';
export * from './milenage.js';
