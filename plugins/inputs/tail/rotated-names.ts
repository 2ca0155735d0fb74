// Where rotation puts a file: the names logrotate (`.1`, `-YYYYMMDD` with dateext, `dateformat`,
// `extension`-style `access-20261202.log`) and Apache's rotatelogs (`access.log.1733140800`,
// `access.log.20261202`) give it, in the same directory. Compressed rotations are not followed: their
// content is not the file's any more.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

const COMPRESSED = /\.(gz|bz2|xz|zst|lz4|lzma|Z|zip|br)$/;
/** Enough for `rotate 5` per file in directories of many logs; the newest are tried first. */
const MAX_CANDIDATES = 64;

export interface Candidate { path: string; dev: number; ino: number; size: number; mtimeMs: number }

/** The stem shared by a log and its rotations: `access.log` -> `access` (so `access-20261202.log` and
 * `access.log.1` both qualify); a name without extension is its own stem. */
function stemOf(name: string): string {
  const dot = name.indexOf('.', 1);
  return dot > 0 ? name.slice(0, dot) : name;
}

/** Whether `name` is a name rotation gives a file called `base`: `base` plus a suffix with a number or date
 * (`.1`, `-20261202`, `.2026-12-02`, `.1733140800`), or the stem, a number or date and the extension
 * (`access-20261202.log`, `access.1.log`); compressed names are not. */
export function isRotatedName(base: string, name: string): boolean {
  if (name === base || COMPRESSED.test(name)) return false;
  if (name.startsWith(base)) return /^[.\-_][^/]*\d/.test(name.slice(base.length));
  const stem = stemOf(base);
  const ext = base.slice(stem.length);
  if (!name.startsWith(stem) || !name.endsWith(ext)) return false;
  return /^[.\-_][\d.\-_]*\d[\d.\-_]*$/.test(name.slice(stem.length, name.length - ext.length));
}

/** The live name a rotated name came from: `access.log.2` -> `access.log`, `access.log-20261202` ->
 * `access.log`; a name with no rotation suffix is its own. */
export function liveName(name: string): string {
  const m = /^(.+?\.[^.\d][^.]*)[.\-_][\d.\-_]*\d[\d.\-_]*$/.exec(name);
  return m ? m[1] : name;
}

/** Regular files in the directory of `file` whose names rotation could have given it (or, for a rotated
 * name, the live file and its other rotations: `access.log.1` becomes `access.log.2`), newest first, `file`
 * itself excluded. Unreadable directories give none. */
export async function rotationCandidates(file: string): Promise<Candidate[]> {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const live = liveName(base);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const found: Candidate[] = [];
  for (const name of names) {
    if (name === base || !(name === live || isRotatedName(live, name) || isRotatedName(base, name))) continue;
    const p = path.join(dir, name);
    const st = await stat(p).catch(() => undefined);
    if (st?.isFile()) found.push({ path: p, dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs });
  }
  found.sort((a, b) => b.mtimeMs - a.mtimeMs);
  return found.slice(0, MAX_CANDIDATES);
}
