/**
 * Scripted peers for the protected ports, built from the text of TS 33.203 §7.1 and Annex I and
 * RFC 3948 rather than from imsec's own SA table or protected transport: a plain UDP socket per
 * protected port, and SAs held by hand — one {@link EspSa} (RFC 4303) per direction, keyed by
 * Annex I expansion of IK/CK, its selector written down by the test. A test says exactly which
 * port sends what, with which SPI, and checks exactly what arrives where.
 */
import { createSocket, type Socket } from 'node:dgram';
import { SeededRng } from '../../src/common/index.js';
import { EspSa, decodeEspHeader, deriveEspKeys, type EncryptionAlg, type IntegrityAlg } from '../../src/ipsec/esp/index.js';
import { decapsulate, encapsulate } from '../../src/ipsec/udp-encap/encap.js';
import type { Endpoint } from '../../src/ip/index.js';

/** One received datagram. */
export interface Datagram {
  readonly data: Uint8Array;
  readonly from: Endpoint;
}

/** A UDP socket on one port with an inbox (the test reads it in order). */
export class RawPort {
  readonly inbox: Datagram[] = [];
  private waiter: (() => void) | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
    readonly port: number,
  ) {
    socket.on('message', (msg, rinfo) => {
      this.inbox.push({ data: new Uint8Array(msg), from: { address: rinfo.address, port: rinfo.port } });
      this.waiter?.();
    });
  }

  static async open(address: string, port = 0): Promise<RawPort> {
    const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    const bound = await new Promise<number>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, address, () => resolve(socket.address().port));
    });
    socket.removeAllListeners('error');
    return new RawPort(socket, address, bound);
  }

  get endpoint(): Endpoint {
    return { address: this.address, port: this.port };
  }

  /** The next datagram (bounded real-time wait: it is I/O from another node, not a timer). */
  async next(what = 'a datagram', ms = 3000): Promise<Datagram> {
    const end = Date.now() + ms;
    while (this.inbox.length === 0) {
      const left = end - Date.now();
      if (left <= 0) throw new Error(`port ${this.port}: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.inbox.shift()!;
  }

  send(data: Uint8Array | string, to: Endpoint): Promise<void> {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    return new Promise((resolve, reject) => this.socket.send(bytes, to.port, to.address, (err) => (err ? reject(err) : resolve())));
  }

  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}

/** One unidirectional SA held by hand: SPI, transform, Annex I keys and the selector. */
export interface HandSa {
  readonly spi: number;
  readonly esp: EspSa;
  readonly src: Endpoint;
  readonly dst: Endpoint;
}

/** TS 33.203 Annex I: the SA's keys come from IK (integrity) and CK (encryption). */
export function handSa(p: { spi: number; alg: string; ealg: string; ik: Uint8Array; ck: Uint8Array; src: Endpoint; dst: Endpoint }): HandSa {
  const alg = p.alg as IntegrityAlg;
  const ealg = p.ealg as EncryptionAlg;
  const keys = deriveEspKeys(alg, ealg, p.ik, p.ck);
  return { spi: p.spi, esp: new EspSa({ spi: p.spi, integrity: alg, encryption: ealg, keys, replayWindow: 64 }), src: p.src, dst: p.dst };
}

const ivRng = new SeededRng('raw-esp-iv');

/** RFC 3948 UDP-encapsulated tunnel mode: the SIP text in an inner IP/UDP packet src → dst, sealed. */
export function sealSip(sa: HandSa, sip: string | Uint8Array): Uint8Array {
  const bytes = typeof sip === 'string' ? new TextEncoder().encode(sip) : sip;
  return encapsulate(sa.esp, sa.src, sa.dst, bytes, ivRng);
}

/** The SPI of an ESP-in-UDP datagram (RFC 3948 §2.2: no non-ESP marker). */
export function spiOf(datagram: Uint8Array): number {
  return decodeEspHeader(datagram).spi;
}

/** Open a datagram on a hand-held inbound SA; throws with the reason when it does not verify. */
export function openSip(sa: HandSa, datagram: Uint8Array): { seq: number; src: Endpoint; dst: Endpoint; text: string } {
  const r = decapsulate(sa.esp, datagram);
  if (!r.ok) throw new Error(`ESP on SPI 0x${sa.spi.toString(16)} did not open: ${r.reason}`);
  return { seq: r.seq, src: r.src, dst: r.dst, text: new TextDecoder().decode(r.payload) };
}

/** A SIP message as text: start line, headers in order, CRLF, body; Content-Length computed. */
export function sipText(start: string, headers: [string, string][], body = ''): string {
  const lines = [start, ...headers.map(([k, v]) => `${k}: ${v}`), `Content-Length: ${new TextEncoder().encode(body).length}`];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}
