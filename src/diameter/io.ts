/**
 * imsec/diameter's I/O entry (the second entry of the layer, like common/log.ts): the
 * {@link DiameterNode} driver (RFC 6733 §5 peers over a transport) and the TCP transport
 * (node:net). Everything in diameter/index.ts is pure, so a codec or a node core that imports the
 * Diameter layer loads no socket module.
 */
export { DiameterNode } from './peer/node.js';
export { tcpTransport } from './transport/tcp.js';
