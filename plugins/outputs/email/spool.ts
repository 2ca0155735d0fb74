// A bounded, durable queue of rendered messages: a JSON-lines file, fsync'd on every change.
// Appends go to the end of the file (core's appendDurable); removals rewrite it (core's writeFileAtomic), so a crash
// at any point leaves either the old or the new content. A torn last line (crash mid-append) is ignored on load.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { appendDurable, writeFileAtomic } from '../../../core/index.js';
import type { RenderedMail } from './render.js';

export interface SpoolEntry extends RenderedMail {
  id: number;
  at: number;
}

export class Spool {
  private entries: SpoolEntry[] = [];
  private nextId = 1;
  private chain: Promise<unknown> = Promise.resolve();
  private spaceWaiters: Array<() => void> = [];
  private dataWaiters: Array<() => void> = [];
  readonly file: string;

  constructor(dir: string, readonly capacity: number) {
    this.file = path.join(dir, 'spool.jsonl');
  }

  get size(): number {
    return this.entries.length;
  }

  /** Entries in order (a snapshot). */
  peek(max: number): SpoolEntry[] {
    return this.entries.slice(0, max);
  }

  async load(): Promise<number> {
    let text = '';
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    let torn = 0;
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const e = JSON.parse(line) as SpoolEntry;
        if (typeof e.subject === 'string' && typeof e.text === 'string') this.entries.push(e);
        else torn++;
      } catch {
        torn++;
      }
    }
    this.nextId = this.entries.reduce((m, e) => Math.max(m, e.id), 0) + 1;
    if (torn) await this.serial(() => this.rewrite());
    return torn;
  }

  /** Resolves once the mails are on disk; waits while the queue is full (backpressure). */
  async add(mails: RenderedMail[], signal?: AbortSignal): Promise<void> {
    let i = 0;
    while (i < mails.length) {
      while (this.entries.length + this.reserved >= this.capacity) {
        if (signal?.aborted) throw new Error('email output is closing');
        await new Promise<void>((r) => this.spaceWaiters.push(r));
      }
      const room = this.capacity - this.entries.length - this.reserved;
      const chunk = mails.slice(i, i + room).map((m) => ({ id: this.nextId++, at: Date.now(), subject: m.subject, text: m.text, html: m.html }));
      i += chunk.length;
      // Reserve the room now so concurrent writers cannot overfill; the entries become visible to the
      // sender only once they are durable.
      const reserved = chunk.length;
      this.reserved += reserved;
      try {
        await this.serial(async () => {
          await this.append(chunk);
          this.entries.push(...chunk);
        });
      } finally {
        this.reserved -= reserved;
      }
      this.wake(this.dataWaiters);
    }
  }
  private reserved = 0;

  async remove(ids: number[]): Promise<void> {
    const gone = new Set(ids);
    await this.serial(async () => {
      this.entries = this.entries.filter((e) => !gone.has(e.id));
      await this.rewrite();
    });
    this.wake(this.spaceWaiters);
  }

  /** Resolves when there is something to send (or at once if there is). */
  waitForData(): Promise<void> {
    if (this.entries.length) return Promise.resolve();
    return new Promise((r) => this.dataWaiters.push(r));
  }

  /** Wake every waiter (used on close). */
  interrupt(): void {
    this.wake(this.dataWaiters);
    this.wake(this.spaceWaiters);
  }

  private wake(list: Array<() => void>): void {
    for (const w of list.splice(0)) w();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private append(chunk: SpoolEntry[]): Promise<void> {
    return appendDurable(this.file, chunk.map((e) => JSON.stringify(e)).join('\n') + '\n');
  }

  private rewrite(): Promise<void> {
    return writeFileAtomic(this.file, this.entries.map((e) => JSON.stringify(e) + '\n').join(''));
  }
}
