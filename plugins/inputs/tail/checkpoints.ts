// Read positions per file, kept in <data_dir>/<component>/checkpoints.json and replaced atomically
// (core's writeFileAtomic) so a crash leaves either the old or the new version.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../../core/index.js';
import type { Fingerprint } from './fingerprint.js';

export interface Checkpoint {
  path: string;
  offset: number;
  /** The file's size when last seen: bytes between offset and size were known and not yet delivered. */
  size?: number;
  fingerprint: Fingerprint;
  /** The bytes just before `offset` (see MARK_BYTES): a file holding the fingerprint's content is this one
   * only if it holds these bytes there too. */
  mark?: Fingerprint;
  /** Epoch ms of the last time the file was seen; entries of files gone for long are dropped. */
  seen: number;
}

const FORGET_AFTER_MS = 7 * 24 * 3600 * 1000;

export class CheckpointStore {
  private entries = new Map<string, Checkpoint>();
  private dirty = false;
  /** Epoch ms of the last write of the file, as loaded (0 when there was none): every file modified since
   * was modified while nobody checkpointed it. */
  savedAt = 0;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly dir: string) {}

  get file(): string {
    return path.join(this.dir, 'checkpoints.json');
  }

  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const data = JSON.parse(text) as { version: number; saved_at?: number; files: Record<string, Checkpoint> };
    this.savedAt = data.saved_at ?? 0;
    const now = Date.now();
    for (const [key, cp] of Object.entries(data.files ?? {})) {
      if (now - cp.seen < FORGET_AFTER_MS) this.entries.set(key, cp);
    }
  }

  /** The paths of every file checkpointed (possibly by other inodes than those there now). */
  paths(): Set<string> {
    return new Set([...this.entries.values()].map((cp) => cp.path));
  }

  /** Every entry, as [key, checkpoint] (a copy: the caller may change the store while going through it). */
  all(): [string, Checkpoint][] {
    return [...this.entries];
  }

  get(key: string): Checkpoint | undefined {
    return this.entries.get(key);
  }

  set(key: string, cp: Checkpoint): void {
    const old = this.entries.get(key);
    if (old && old.offset === cp.offset && old.path === cp.path && old.size === cp.size && old.mark?.hash === cp.mark?.hash && old.fingerprint.hash === cp.fingerprint.hash && cp.seen - old.seen < 60_000) return;
    this.entries.set(key, cp);
    this.dirty = true;
  }

  delete(key: string): void {
    if (this.entries.delete(key)) this.dirty = true;
  }

  /** Write if anything changed; concurrent calls are serialised. */
  save(): Promise<void> {
    this.saving = this.saving.then(() => this.write());
    return this.saving;
  }

  private async write(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const body = JSON.stringify({ version: 1, saved_at: Date.now(), files: Object.fromEntries(this.entries) }, null, 1);
    await writeFileAtomic(this.file, body);
  }
}
