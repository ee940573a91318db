/**
 * IPsec for IMS (TS 33.203 §6-§7): the ESP codec (esp/). SA/SPD handling and the kernel XFRM
 * edge are added alongside (sa/, xfrm/).
 */
export * from './esp/index.js';
export * from './sa/index.js';
export * from './udp-encap/index.js';
export * from './xfrm/index.js';
export * from './port-pool.js';
