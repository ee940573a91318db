/**
 * SIP over the IPsec SAs of sec-agree (TS 33.203 §7.1): the protected transport joins the SIP
 * transport layer to a carrier of ESP (the userspace ESP-in-UDP datapath, or plain sockets over
 * kernel XFRM).
 */
export * from './protected-transport.js';
export * from './flows.js';
export * from './protected-tcp.js';
