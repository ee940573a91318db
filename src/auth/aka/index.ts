export * from './sqn.js';
export * from './vector.js';
export * from './isim.js';
