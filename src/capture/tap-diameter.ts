/**
 * A Diameter transport (RFC 6733 §2.1) that reports every chunk written and read on its
 * connections, with both ends' addresses, to a {@link WireSink}; otherwise it is the transport it
 * wraps. Give it to a node as its `transport` / `diameterTransport` dependency to record the Cx
 * legs (the connection's `local` end comes from the TCP transport; a transport that does not know
 * it reports 0.0.0.0:0).
 */
import type { DiameterConnection, DiameterListener, DiameterTransport } from '../diameter/index.js';
import type { Endpoint } from '../ip/index.js';
import { parseHostPortText, type WireSink } from './tap-wire.js';

class TappedConnection implements DiameterConnection {
  private readonly dataCbs: ((chunk: Uint8Array) => void)[] = [];
  /** Both ends as last parsed, and the texts they were parsed from (a connection's ends rarely change). */
  private ends: { local: string | undefined; remote: string; parsed: [Endpoint, Endpoint] } | undefined;

  constructor(
    private readonly inner: DiameterConnection,
    private readonly sink: WireSink,
  ) {}

  get id(): number {
    return this.inner.id;
  }

  get remote(): string {
    return this.inner.remote;
  }

  get local(): string | undefined {
    return this.inner.local;
  }

  private report(dir: 'in' | 'out', bytes: Uint8Array): void {
    try {
      const local = this.inner.local;
      const remote = this.inner.remote;
      let e = this.ends;
      if (e === undefined || e.local !== local || e.remote !== remote) this.ends = e = { local, remote, parsed: [parseHostPortText(local), parseHostPortText(remote)] };
      this.sink(dir, bytes, e.parsed[0], e.parsed[1], 'tcp');
    } catch {
      // An observer must never disturb the connection.
    }
  }

  write(bytes: Uint8Array): void {
    this.report('out', bytes);
    this.inner.write(bytes);
  }

  close(): void {
    this.inner.close();
  }

  destroy(): void {
    this.inner.destroy();
  }

  onData(cb: (chunk: Uint8Array) => void): void {
    // Subscribe below only with the first reader: until then the socket keeps its input.
    if (this.dataCbs.length === 0) {
      this.inner.onData((chunk) => {
        this.report('in', chunk);
        for (const f of this.dataCbs) f(chunk);
      });
    }
    this.dataCbs.push(cb);
  }

  onClose(cb: (err?: Error) => void): void {
    this.inner.onClose(cb);
  }
}

/** `inner` with every connection (opened or accepted) reporting its bytes to `sink`. */
export function tapDiameterTransport(inner: DiameterTransport, sink: WireSink): DiameterTransport {
  return {
    async connect(host, port, timeoutMs) {
      return new TappedConnection(await inner.connect(host, port, timeoutMs), sink);
    },
    listen(host, port, onConnection): Promise<DiameterListener> {
      return inner.listen(host, port, (c) => onConnection(new TappedConnection(c, sink)));
    },
  };
}
