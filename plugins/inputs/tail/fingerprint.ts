// A file's fingerprint: a hash of its first bytes. It is the file's identity by content, as Vector's checksum
// fingerprinting: it tells a file from another that got the same inode (delete + create), content
// rewritten in place (copytruncate followed by fast appends), and finds a file again under another name and
// inode (a copy made by logrotate's copytruncate is the same content as the original).
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

export const FINGERPRINT_BYTES = 1024;
/** Bytes before a read position kept as its mark. Under load a server writes identical lines within one
 * second (ab: every line the same), so a file's first bytes alone can match another generation of it; the
 * bytes just before the checkpoint must match too. Measured: with head-only identity a copytruncate while
 * stopped under ab load resumed the wrong copy (1,000 of 9,500 lines missed). */
export const MARK_BYTES = 256;

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

/** Whether `head` (the file's first bytes now) starts with the content `fp` was taken from. An empty
 * fingerprint (a file seen empty) matches anything. */
export function matches(fp: Fingerprint, head: Buffer): boolean {
  if (fp.len === 0) return true;
  return head.length >= fp.len && hashOf(head, fp.len) === fp.hash;
}

/** Whether `head` is the content `fp` identifies, for finding a file under another name or inode: as
 * `matches`, but only when what the fingerprint covers holds at least one whole line (a few bytes of a
 * first line are shared by too many files to be an identity). */
export function sameContent(fp: Fingerprint, head: Buffer): boolean {
  return fp.len > 0 && matches(fp, head) && head.subarray(0, fp.len).includes(10);
}

/** Two files' first bytes (as read now, either possibly shorter) are the same content: equal over their
 * common length, which holds at least one whole line. A copy still being written agrees with its original. */
export function headsAgree(a: Buffer, b: Buffer): boolean {
  const n = Math.min(a.length, b.length);
  if (n === 0) return false;
  const common = a.subarray(0, n);
  return common.includes(10) && common.equals(b.subarray(0, n));
}

/** Whether the first bytes are too few to tell the file apart from a copy of another (no whole line yet). */
export function tooShortToCompare(head: Buffer): boolean {
  return !head.includes(10) && head.length < FINGERPRINT_BYTES;
}

/** Whether the file holds, just before `offset`, the bytes `mark` was taken from. */
export async function markMatches(fd: FileHandle, offset: number, mark: Fingerprint): Promise<boolean> {
  if (mark.len === 0) return true;
  if (offset < mark.len) return false;
  const buf = Buffer.alloc(mark.len);
  const { bytesRead } = await fd.read(buf, 0, mark.len, offset - mark.len);
  return bytesRead === mark.len && hashOf(buf, mark.len) === mark.hash;
}

/** The identity of a file's content for the events' position (position_field), given the file's first bytes: core's
 * contentId, shared with `visor analyze --store` so that both give a line the same identity. */
export { contentId } from '../../../core/index.js';
