// Finding a followed file's content again after it moved: under a rotated name (rename + create), in a copy
// (copytruncate), and at start-up for every checkpoint. Identity is the inode where it still holds the
// checkpointed content, and otherwise the content itself (the fingerprint), but only under the names rotation
// gives the file: an unrelated file that happens to start with the same lines is never taken for it.
import { open } from 'node:fs/promises';
import type { Checkpoint } from './checkpoints.js';
import { markMatches, matches, readHead, sameContent, type Fingerprint } from './fingerprint.js';
import { rotationCandidates, type Candidate } from './rotated-names.js';
import { identityKey } from './tailed-file.js';

export interface Located extends Candidate { key: string; head: Buffer }

/** A position in a content: an offset and the mark of the bytes before it (see MARK_BYTES). */
export interface Position { offset: number; mark?: Fingerprint }

/** The first bytes of the file at `p`, when it holds the bytes of `at` (undefined otherwise, or when it
 * cannot be read). */
export async function headOfPath(p: string, at?: Position): Promise<Buffer | undefined> {
  let fd;
  try {
    fd = await open(p, 'r');
    const st = await fd.stat();
    if (at?.mark && !(await markMatches(fd, at.offset, at.mark))) return undefined;
    return await readHead(fd, st.size);
  } catch {
    return undefined;
  } finally {
    await fd?.close().catch(() => undefined);
  }
}

function keyOf(c: Candidate): string {
  return identityKey(c.dev, c.ino);
}

/** Where the content a checkpoint points into is now, if its inode still holds it (renamed or not):
 * among `present` (the files the globs match) and the rotated names of the checkpointed path. A file
 * holding the content is at least as big as it was last seen (files shrink only by truncation). */
export async function locateByInode(key: string, cp: Checkpoint, present: Candidate[]): Promise<Located | undefined> {
  const minSize = Math.max(cp.offset, cp.size ?? 0);
  const at: Position = { offset: cp.offset, mark: cp.mark };
  for (const c of [...present, ...(await rotationCandidates(cp.path))]) {
    if (keyOf(c) !== key || c.size < minSize) continue;
    const head = await headOfPath(c.path, at);
    return head && matches(cp.fingerprint, head) ? { ...c, key, head } : undefined;
  }
  return undefined;
}

const COMPARE_CHUNK = 64 * 1024;

/** Whether `original` still holds, at the same offsets, the bytes `copy` holds from `from` to its end: what a
 * copy is of a file that was not truncated since (logrotate's `copy`, or copytruncate killed before its
 * truncate). Compared chunk by chunk, up to the first difference: a truncated file regrown with other lines
 * differs at once; only a true copy is read whole. */
export async function holdsCopiedBytes(original: { path: string; size: number }, copy: { path: string; size: number }, from: number): Promise<boolean> {
  if (original.size < copy.size) return false;
  let a, b;
  try {
    a = await open(original.path, 'r');
    b = await open(copy.path, 'r');
    const bufA = Buffer.alloc(COMPARE_CHUNK);
    const bufB = Buffer.alloc(COMPARE_CHUNK);
    for (let pos = from; pos < copy.size; pos += COMPARE_CHUNK) {
      const len = Math.min(COMPARE_CHUNK, copy.size - pos);
      const [ra, rb] = await Promise.all([a.read(bufA, 0, len, pos), b.read(bufB, 0, len, pos)]);
      if (ra.bytesRead !== len || rb.bytesRead !== len || !bufA.subarray(0, len).equals(bufB.subarray(0, len))) return false;
    }
    return true;
  } catch {
    return false;
  } finally {
    await a?.close().catch(() => undefined);
    await b?.close().catch(() => undefined);
  }
}

/** A copy of the content a checkpoint points into, under a rotated name of its path (copytruncate), at
 * least as big as the content was last seen (a copy copies everything). `taken`: keys not to consider. */
export async function locateCopy(cp: Checkpoint, taken: (key: string) => boolean): Promise<Located | undefined> {
  const minSize = Math.max(cp.offset, cp.size ?? 0);
  return findCopyAmong(await rotationCandidates(cp.path), cp.fingerprint, { offset: cp.offset, mark: cp.mark }, (c) => !taken(keyOf(c)) && c.size >= minSize);
}

/** A file under a rotated name of `file` holding the content `fp` identifies, with the bytes of `at`
 * (copytruncate's copy). */
export async function findCopy(file: string, fp: Fingerprint, at: Position, taken: (key: string) => boolean): Promise<Located | undefined> {
  return findCopyAmong(await rotationCandidates(file), fp, at, (c) => !taken(keyOf(c)));
}

async function findCopyAmong(candidates: Candidate[], fp: Fingerprint, at: Position, fits: (c: Candidate) => boolean): Promise<Located | undefined> {
  if (fp.len === 0) return undefined;
  for (const c of candidates) {
    if (!fits(c) || c.size < fp.len) continue;
    const head = await headOfPath(c.path, c.size >= at.offset ? at : undefined);
    if (head && sameContent(fp, head)) return { ...c, key: keyOf(c), head };
  }
  return undefined;
}
