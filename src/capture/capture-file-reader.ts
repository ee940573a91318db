/**
 * File edge of the streaming capture reader: reads a pcap or pcapng file in fixed chunks and hands
 * every frame to a callback, so memory stays flat whatever the file's size.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { CaptureReader, type CaptureFrame } from './capture-reader.js';

export const CAPTURE_CHUNK_BYTES = 1024 * 1024;

/** Reads `path` frame by frame; returns the number of frames and bytes read. Throws CaptureFormatError. */
export function readCaptureFile(path: string, onFrame: (f: CaptureFrame) => void, chunkBytes = CAPTURE_CHUNK_BYTES): { frames: number; bytes: number } {
  const reader = new CaptureReader();
  const fd = openSync(path, 'r');
  let bytes = 0;
  try {
    for (;;) {
      // A fresh buffer per chunk: frames are views into it while the callback runs.
      const buf = new Uint8Array(chunkBytes);
      const n = readSync(fd, buf, 0, chunkBytes, null);
      if (n === 0) break;
      bytes += n;
      reader.push(buf.subarray(0, n), onFrame);
    }
  } finally {
    closeSync(fd);
  }
  reader.end();
  return { frames: reader.frames, bytes };
}
