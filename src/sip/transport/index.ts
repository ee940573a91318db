/** SIP transports (RFC 3261 §18, RFC 3581): UDP and TCP over IPv4/IPv6, the transport layer over them. */
export type { TransportProtocol, Endpoint, Destination, InboundMessage, DropReason, TransportCounters, SendOptions, SipTransport, WireObserver } from './types.js';
export { newCounters, observeWire } from './types.js';
export { SipTransportError } from './errors.js';
export { UdpTransport, MAX_UDP_PAYLOAD } from './udp.js';
export type { UdpTransportOptions } from './udp.js';
export { TcpTransport } from './tcp.js';
export { TCP_DEFAULTS } from './tcp-options.js';
export type { TcpTransportOptions, TcpLimits } from './tcp-options.js';
export { openTransports } from './open.js';
export type { OpenTransportsOptions } from './open.js';
export { TransportLayer, DEFAULT_UDP_MAX_REQUEST } from './transport-layer.js';
export type { TransportLayerOptions, PreparedRequest } from './transport-layer.js';
export { acceptInbound, transportCheck } from './inbound.js';
export type { InboundLimits, InboundResult, InboundContext, RequestCheck } from './inbound.js';
export { responseRoute, defaultPort } from './response-route.js';
export type { ViaRoute, ResponseRoute } from './response-route.js';
export { readTopVia, setTopViaSentBy, stampReceived } from './via.js';
export { canonicalAddress, endpointKey, formatEndpoint, hostForHeader, ipFamily } from './endpoint.js';
