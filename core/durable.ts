// The one durability policy for the files components keep in their data directories (checkpoints, spools,
// journals). Nothing is acknowledged on the strength of a write before the write is on disk:
// - A file replaced whole goes through writeFileAtomic: the content is written to `<file>.tmp` and fsync'd, renamed
//   over the file, then the directory is fsync'd so that the rename survives a crash too. After a crash the
//   file holds either the old or the new content, never a mix (a stale `.tmp` may remain; it is overwritten next time).
// - A record added to a file goes through appendDurable: appended, then fdatasync'd (and the directory fsync'd when
//   the file was empty, i.e. probably just created) before the call returns, so the caller may acknowledge what
//   the record stands for once it has. A crash mid-append can leave a torn last line: readers must skip it.
// Both have a synchronous form for callers that must finish the write before their next statement (an AckHold's
// release, which runs before the holds released after it).
import { closeSync, fdatasyncSync, fstatSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import path from 'node:path';

/** Replaces `file` with `data` atomically and durably (temp file + fsync + rename + fsync of the directory). */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  await syncDir(path.dirname(file));
}

/** Appends `data` to `file` (created if missing) and returns once it is on disk (fdatasync). */
export async function appendDurable(file: string, data: string | Uint8Array): Promise<void> {
  const fh = await open(file, 'a');
  let created: boolean;
  try {
    created = (await fh.stat()).size === 0;
    await fh.writeFile(data);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  if (created) await syncDir(path.dirname(file));
}

/** writeFileAtomic, synchronously. */
export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeAll(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  syncDirSync(path.dirname(file));
}

/** appendDurable, synchronously. */
export function appendDurableSync(file: string, data: string | Uint8Array): void {
  const fd = openSync(file, 'a');
  let created: boolean;
  try {
    created = fstatSync(fd).size === 0;
    writeAll(fd, data);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (created) syncDirSync(path.dirname(file));
}

function writeAll(fd: number, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** Makes a rename or a creation in `dir` durable; platforms that cannot fsync a directory are let be. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r').catch(() => undefined);
  if (fh) await fh.sync().catch(() => undefined).finally(() => fh.close());
}

function syncDirSync(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch { /* not supported here */ } finally {
    closeSync(fd);
  }
}
