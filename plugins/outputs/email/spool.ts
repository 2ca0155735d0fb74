// A bounded, durable queue of rendered messages: a JSON-lines file, fsync'd on every change.
// Appends go to the end of the file (core's appendDurable); removals rewrite it (core's writeFileAtomic), so a crash
// at any point leaves either the old or the new content. A torn last line (crash mid-append) is ignored on load.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { appendDurable, writeFileAtomic } from '../../../core/index.js';
import type { RenderedMail } from './render.js';

/** A message to spool: the rendered mail and its Message-ID, chosen once so that every retry and every resend
 * after a restart carries the same one (receivers de-duplicate on it). */
export interface SpooledMail extends RenderedMail {
  message_id: string;
}

export interface SpoolEntry extends SpooledMail {
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

  /** `newMessageId` gives entries spooled by an older version (without one) their Message-ID, once, on load. */
  constructor(dir: string, readonly capacity: number, private readonly newMessageId: () => string) {
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
    let named = 0;
    for (const e of this.entries) if (typeof e.message_id !== 'string' || !e.message_id) { e.message_id = this.newMessageId(); named++; }
    if (torn || named) await this.serial(() => this.rewrite());
    return torn;
  }

  /** Resolves once the mails are on disk; waits while the queue is full (backpressure). */
  async add(mails: SpooledMail[], signal?: AbortSignal): Promise<void> {
    let i = 0;
    while (i < mails.length) {
      while (this.entries.length + this.reserved >= this.capacity) {
        if (signal?.aborted) throw new Error('email output is closing');
        await new Promise<void>((r) => this.spaceWaiters.push(r));
      }
      const room = this.capacity - this.entries.length - this.reserved;
      const chunk = mails.slice(i, i + room).map((m) => ({ id: this.nextId++, at: Date.now(), message_id: m.message_id, subject: m.subject, text: m.text, html: m.html }));
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

  /** Resolves when there is something to send (at once if there is), or when `signal` aborts. The abort
   * listener is removed again on wake-up: the sender waits once per message, and a listener left behind each
   * time would pile up on the one signal (a leak, and Node's MaxListenersExceededWarning after 10). */
  waitForData(signal?: AbortSignal): Promise<void> {
    if (this.entries.length || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal?.removeEventListener('abort', done);
        const i = this.dataWaiters.indexOf(done);
        if (i >= 0) this.dataWaiters.splice(i, 1);
        resolve();
      };
      this.dataWaiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
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
