/**
 * Packet capture: a pure libpcap writer/reader, a recorder that turns UDP, TCP, ESP and
 * ESP-in-UDP traffic into full IP packets, and the file edge (pcap-file.ts).
 */
export * from './pcap-writer.js';
export * from './pcap-reader.js';
export * from './recorder.js';
export * from './pcap-file.js';
