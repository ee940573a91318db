/**
 * IPv4/IPv6, UDP and TCP header codecs with their checksums: enough IP to write pcaps and to
 * carry inner packets in tunnel-mode ESP. Pure (no sockets).
 */
export * from './errors.js';
export * from './address.js';
export * from './checksum.js';
export * from './protocols.js';
export * from './ipv4.js';
export * from './ipv6.js';
export * from './udp.js';
export * from './tcp.js';
export * from './packet.js';
