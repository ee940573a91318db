/**
 * Userspace IPsec datapath: RFC 3948 UDP-encapsulated tunnel-mode ESP between the protected
 * ports (TS 33.203 `mod=UDP-enc-tun`). Pure encapsulation plus a node:dgram endpoint.
 */
export {
  encapsulate,
  decapsulate,
  canonicalIp,
  NEXT_HEADER_IPV4,
  NEXT_HEADER_IPV6,
  type DecapResult,
  type UdpEncapDropReason,
} from './encap.js';
export {
  UdpEncapDatapath,
  type UdpEncapOptions,
  type UdpEncapCounters,
  type UdpEncapMessageInfo,
  type UdpEncapSendOptions,
} from './datapath.js';
