/**
 * Packet capture: a pure libpcap writer/reader, a recorder that turns UDP, TCP, ESP and
 * ESP-in-UDP traffic into full IP packets, and the file edge (pcap-file.ts).
 */
export * from './pcap-writer.js';
export * from './pcap-reader.js';
export * from './recorder.js';
export * from './pcap-file.js';
// Taps: one trace of every leg of a process (G3), its Diameter tap and the tshark decode helpers.
export * from './tap-wire.js';
export * from './tap-diameter.js';
export * from './wire-feed.js';
export * from './tap-tshark.js';
// Capture analysis input ([J]): streaming pcap/pcapng, link layers, GTP-U, IP fragments, TCP, SCTP.
export * from './capture-reader.js';
export * from './link-layer.js';
export * from './gtpu.js';
export * from './ip-fragments.js';
export * from './tcp-reassembly.js';
export * from './sctp.js';
export * from './capture-file-reader.js';
