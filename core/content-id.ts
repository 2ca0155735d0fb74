// The identity of a log file's content, for the positions of its lines ({ file, offset }: the tail input's
// position_field, and `visor analyze --store`, which must give a line the same identity the tail gave or would give
// it, so that the store keys both to one row). A hash of the file's first line (of at most CONTENT_ID_BYTES): unlike
// a fingerprint of the first bytes it does not grow with the file, so a line read again after a restart, a rotation,
// from logrotate's copy or from the rotated file compressed later (its decompressed text) gets the same identity and
// offset; new content after a truncation starts with another line, so its lines get new identities.
import { createHash } from 'node:crypto';

/** Bytes of the file's head the identity is taken from (give contentId at least these, or the whole file). */
export const CONTENT_ID_BYTES = 1024;

/** The identity, given the file's first bytes (decompressed, for a gzip file). */
export function contentId(head: Buffer): string {
  const nl = head.subarray(0, CONTENT_ID_BYTES).indexOf(10);
  const len = nl < 0 ? Math.min(head.length, CONTENT_ID_BYTES) : nl + 1;
  return createHash('sha1').update(head.subarray(0, len)).digest('hex').slice(0, 16);
}
