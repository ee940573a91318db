/**
 * Link-layer decoders for the captures people take (tcpdump.org LINKTYPE_* values): Ethernet
 * (IEEE 802.3, with 802.1Q/802.1ad VLAN tags), Linux cooked capture v1 (SLL, 16-byte header) and
 * v2 (SLL2, 20 bytes), raw IP, BSD loopback/null (4-byte address family, host or network order).
 * Each returns the IP packet inside, or undefined for a frame that carries no IP (ARP, LLDP, ...).
 * Pure; throws {@link LinkLayerError} only for a frame cut too short to hold its own header.
 */
import { ImsError } from '../common/index.js';

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET_II = 1;
export const LINKTYPE_RAW_ALT = 12;
export const LINKTYPE_RAW_OPENBSD = 14;
export const LINKTYPE_RAW_IP = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;

/** A frame too short for its link-layer header. */
export class LinkLayerError extends ImsError {
  constructor(
    message: string,
    readonly linktype: number,
  ) {
    super('PCAP', message);
  }
}

/** True when imsec can read this link type. */
export function isSupportedLinktype(linktype: number): boolean {
  return [LINKTYPE_NULL, LINKTYPE_ETHERNET_II, LINKTYPE_RAW_ALT, LINKTYPE_RAW_OPENBSD, LINKTYPE_RAW_IP, LINKTYPE_LOOP, LINKTYPE_LINUX_SLL, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL2].includes(linktype);
}

function need(data: Uint8Array, n: number, linktype: number, what: string): void {
  if (data.length < n) throw new LinkLayerError(`${what} frame of ${data.length} byte(s) is shorter than its ${n}-byte header`, linktype);
}

function byEthertype(type: number, data: Uint8Array, at: number): Uint8Array | undefined {
  return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6 ? data.subarray(at) : undefined;
}

/** The IP packet inside one frame of `linktype`, or undefined when it carries no IP. */
export function linkPayload(linktype: number, data: Uint8Array): Uint8Array | undefined {
  switch (linktype) {
    case LINKTYPE_ETHERNET_II: {
      need(data, 14, linktype, 'Ethernet');
      let at = 12;
      let type = (data[at] << 8) | data[at + 1];
      // 802.1Q / 802.1ad: TPID(2) TCI(2), possibly stacked.
      for (let tags = 0; (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ) && tags < 4; tags++) {
        at += 4;
        need(data, at + 2, linktype, 'VLAN-tagged Ethernet');
        type = (data[at] << 8) | data[at + 1];
      }
      return byEthertype(type, data, at + 2);
    }
    case LINKTYPE_LINUX_SLL:
      // pkttype(2) hatype(2) halen(2) addr(8) protocol(2)
      need(data, 16, linktype, 'Linux cooked (SLL)');
      return byEthertype((data[14] << 8) | data[15], data, 16);
    case LINKTYPE_LINUX_SLL2:
      // protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) halen(1) addr(8)
      need(data, 20, linktype, 'Linux cooked v2 (SLL2)');
      return byEthertype((data[0] << 8) | data[1], data, 20);
    case LINKTYPE_RAW_IP:
    case LINKTYPE_RAW_ALT:
    case LINKTYPE_RAW_OPENBSD:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return data;
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      need(data, 4, linktype, 'loopback');
      // AF_INET is 2 everywhere; AF_INET6 is 10, 24, 28 or 30 depending on the OS. NULL is in
      // the capturing host's byte order, LOOP in network order: accept either.
      const le = data[0] | (data[1] << 8) | (data[2] << 16) | (data[3] << 24);
      const be = (data[0] << 24) | (data[1] << 16) | (data[2] << 8) | data[3];
      const af = le > 0 && le < 256 ? le : be;
      return af === 2 || af === 10 || af === 24 || af === 28 || af === 30 ? data.subarray(4) : undefined;
    }
    default:
      return undefined;
  }
}
