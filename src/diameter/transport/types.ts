/**
 * The byte-stream transport a Diameter node runs over (RFC 6733 §2.1: TCP or SCTP). The node and
 * its state machines see only this interface; `tcp.ts` implements it with node:net and
 * `memory.ts` in memory for tests.
 */

/** One transport connection. */
export interface DiameterConnection {
  /** Unique within the process. */
  readonly id: number;
  /** "address:port" of the other end. */
  readonly remote: string;
  /** "address:port" of this end, when the transport knows it (TCP: the real, possibly ephemeral, port). */
  readonly local?: string;
  write(bytes: Uint8Array): void;
  /** Graceful close (FIN after pending writes). */
  close(): void;
  /** Immediate close. */
  destroy(): void;
  onData(cb: (chunk: Uint8Array) => void): void;
  /** Called once when the connection is gone, whoever closed it. */
  onClose(cb: (err?: Error) => void): void;
}

export interface DiameterListener {
  /** The bound port (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

export interface DiameterTransport {
  /** Opens a connection; rejects when refused or after `timeoutMs`. */
  connect(host: string, port: number, timeoutMs: number): Promise<DiameterConnection>;
  listen(host: string, port: number, onConnection: (c: DiameterConnection) => void): Promise<DiameterListener>;
}

let nextId = 1;
/** A process-unique connection id. */
export function newConnectionId(): number {
  return nextId++;
}
