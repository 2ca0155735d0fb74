// Finding a followed file's content again after it moved: under a rotated name (rename + create), in a copy
// (copytruncate), and at start-up for every checkpoint. Identity is the inode where it still holds the
// checkpointed content, and otherwise the content itself (the fingerprint), but only under the names rotation
// gives the file: an unrelated file that happens to start with the same lines is never taken for it.
import { open } from 'node:fs/promises';
import type { Checkpoint } from './checkpoints.js';
import { matches, readHead, sameContent, type Fingerprint } from './fingerprint.js';
import { rotationCandidates, type Candidate } from './rotated-names.js';
import { identityKey } from './tailed-file.js';

export interface Located extends Candidate { key: string; head: Buffer }

/** The first bytes of the file at `p` (undefined when it cannot be read). */
export async function headOfPath(p: string): Promise<Buffer | undefined> {
  let fd;
  try {
    fd = await open(p, 'r');
    const st = await fd.stat();
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

/** Where the content a checkpoint points into is now. `present`: the files the globs match; rotated names
 * of the checkpointed path are searched too. First the same inode still holding that content (renamed or
 * not), then a copy of it under a rotated name. `taken`: keys already followed. */
export async function locateCheckpointed(key: string, cp: Checkpoint, present: Candidate[], taken: (key: string) => boolean): Promise<Located | undefined> {
  const rotated = await rotationCandidates(cp.path);
  const fits = (c: Candidate) => !taken(keyOf(c)) && c.size >= cp.offset;
  for (const c of [...present, ...rotated]) {
    if (keyOf(c) !== key || !fits(c)) continue;
    const head = await headOfPath(c.path);
    if (head && matches(cp.fingerprint, head)) return { ...c, key, head };
  }
  return findCopyAmong(rotated, cp.fingerprint, fits);
}

/** A file under a rotated name of `file` holding the content `fp` identifies (copytruncate's copy). */
export async function findCopy(file: string, fp: Fingerprint, taken: (key: string) => boolean): Promise<Located | undefined> {
  return findCopyAmong(await rotationCandidates(file), fp, (c) => !taken(keyOf(c)));
}

async function findCopyAmong(candidates: Candidate[], fp: Fingerprint, fits: (c: Candidate) => boolean): Promise<Located | undefined> {
  if (fp.len === 0) return undefined;
  for (const c of candidates) {
    if (!fits(c) || c.size < fp.len) continue;
    const head = await headOfPath(c.path);
    if (head && sameContent(fp, head)) return { ...c, key: keyOf(c), head };
  }
  return undefined;
}
