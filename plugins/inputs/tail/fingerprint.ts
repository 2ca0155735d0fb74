// A file's fingerprint: a hash of its first bytes. It tells a file from another that got the same inode
// (delete + create), and content rewritten in place (copytruncate followed by fast appends).
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

export const FINGERPRINT_BYTES = 1024;

export interface Fingerprint { len: number; hash: string }

export const EMPTY_FINGERPRINT: Fingerprint = { len: 0, hash: '' };

function hashOf(buf: Buffer, len: number): string {
  return createHash('sha1').update(buf.subarray(0, len)).digest('hex');
}

/** Reads the first bytes of the file (up to FINGERPRINT_BYTES). */
export async function readHead(fd: FileHandle, size: number): Promise<Buffer> {
  const len = Math.min(size, FINGERPRINT_BYTES);
  const buf = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fd.read(buf, got, len - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

export function fingerprintOf(head: Buffer): Fingerprint {
  return { len: head.length, hash: hashOf(head, head.length) };
}

/** Whether `head` (the file's first bytes now) starts with the content `fp` was taken from. */
export function matches(fp: Fingerprint, head: Buffer): boolean {
  if (fp.len === 0) return true;
  return head.length >= fp.len && hashOf(head, fp.len) === fp.hash;
}
