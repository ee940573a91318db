/**
 * The probe's packet evidence (R-LAB-3): every datagram its sockets send or receive, numbered
 * as the frames of the pcap it writes (LINKTYPE_RAW, IPv4/IPv6 + UDP as they crossed the
 * sockets; ESP stays ESP-in-UDP, RFC 3948), and every hand-held SA as a Wireshark `esp_sa`
 * record so the ESP frames decrypt and their ICVs check. Pure: bytes in, bytes out; the CLI
 * writes the files.
 */
import { PcapRecorder } from '../capture/index.js';
import { ipVersionOf, type Endpoint } from '../ip/index.js';
import { wiresharkEspSaLine } from '../ipsec/index.js';
import type { HandSa } from './hand-sa.js';

export class ProbeCapture {
  private readonly recorder: PcapRecorder;
  private readonly frames = new WeakMap<Uint8Array, number>();
  private readonly keyLines: string[] = [];
  private readonly spis = new Set<string>();
  private n = 0;

  constructor(private readonly now: () => number) {
    this.recorder = new PcapRecorder({ snaplen: 65535 });
  }

  /** Records one datagram; its frame number (1-based) is then {@link frameOf} the same bytes. */
  record(from: Endpoint, to: Endpoint, data: Uint8Array): number {
    this.recorder.udp(from, to, data, this.now());
    this.frames.set(data, ++this.n);
    return this.n;
  }

  /** The frame number of a recorded datagram (the very bytes object given to {@link record}). */
  frameOf(data: Uint8Array): number | undefined {
    return this.frames.get(data);
  }

  get frameCount(): number {
    return this.n;
  }

  /** Adds the Wireshark `esp_sa` record of a hand-held SA (once per SPI and selector). */
  addSa(sa: HandSa): void {
    const k = `${sa.spi}|${sa.src.address}|${sa.dst.address}`;
    if (this.spis.has(k)) return;
    this.spis.add(k);
    const family = ipVersionOf(sa.src.address) === 6 ? 'IPv6' : 'IPv4';
    this.keyLines.push(wiresharkEspSaLine({ family, src: sa.src.address, dst: sa.dst.address, spi: sa.spi, encryption: sa.ealg, integrity: sa.alg, keys: sa.keys }));
  }

  pcap(): Uint8Array {
    return this.recorder.writer.toBytes();
  }

  /** The `esp_sa` records, one a line (secret: write with mode 0600, never log). */
  keys(): string {
    return this.keyLines.length ? `${this.keyLines.join('\n')}\n` : '';
  }
}
