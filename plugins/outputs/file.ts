// Events to files: a path template (fields and event time) picks the file of each event, one write per file
// per batch, numbered rotation by size and/or age (logrotate's naming), optional fdatasync and gzip.
import fs from 'node:fs';
import { mkdir, readdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  compileTemplate, createEncoder, createLinesEncoder, definePlugin, ENCODING_RULES, encoderReads, encodingSchema, parseTimeZone, PermanentError, templateSchema, timezoneSchema,
  type Event,
} from '../../core/index.js';

// Small promise wrappers over the fd-based callback API (no FileHandle objects: fewer allocations, and no
// "closed by GC" warnings for handles dropped after an error).
const openFd = (p: string, flags: number, mode: number) =>
  new Promise<number>((res, rej) => fs.open(p, flags, mode, (e, fd) => (e ? rej(e) : res(fd))));
const closeFd = (fd: number) => new Promise<void>((res, rej) => fs.close(fd, (e) => (e ? rej(e) : res())));
const fdatasync = (fd: number) => new Promise<void>((res, rej) => fs.fdatasync(fd, (e) => (e ? rej(e) : res())));
const fsyncFd = (fd: number) => new Promise<void>((res, rej) => fs.fsync(fd, (e) => (e ? rej(e) : res())));
const fstat = (fd: number) => new Promise<fs.Stats>((res, rej) => fs.fstat(fd, (e, st) => (e ? rej(e) : res(st))));
const ftruncate = (fd: number, len: number) => new Promise<void>((res, rej) => fs.ftruncate(fd, len, (e) => (e ? rej(e) : res())));
const writeSome = (fd: number, buf: Buffer, off: number) =>
  new Promise<number>((res, rej) => fs.write(fd, buf, off, buf.length - off, null, (e, n) => (e ? rej(e) : res(n))));
const pread = (fd: number, buf: Buffer, pos: number) =>
  new Promise<number>((res, rej) => fs.read(fd, buf, 0, buf.length, pos, (e, n) => (e ? rej(e) : res(n))));
const gzip = (buf: Buffer) => new Promise<Buffer>((res, rej) => zlib.gzip(buf, (e, out) => (e ? rej(e) : res(out))));

/** Writes the whole buffer (one syscall unless the kernel takes less). */
async function writeAll(fd: number, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length; ) off += await writeSome(fd, buf, off);
}

/** A write cut by a crash (SIGKILL mid-syscall, power loss) may leave a last line without its newline; it
 * was never acknowledged, so it is cut off before appending. Returns the new size. */
async function repairTail(fd: number, size: number): Promise<number> {
  const chunk = Buffer.allocUnsafe(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    const n = await pread(fd, chunk.subarray(0, end - start), start);
    const nl = chunk.subarray(0, n).lastIndexOf(10);
    if (nl >= 0) {
      end = start + nl + 1;
      break;
    }
    end = start;
  }
  if (end !== size) await ftruncate(fd, end);
  return end;
}

async function syncDir(dir: string): Promise<void> {
  const fd = await openFd(dir, fs.constants.O_RDONLY, 0);
  try {
    await fsyncFd(fd);
  } finally {
    await closeFd(fd);
  }
}

interface OpenFile {
  path: string;
  fd: number;
  /** Bytes in the file (tracked: only this agent appends to it). */
  size: number;
  /** When the file was started (birth time when the filesystem reports one, else when opened): for rotate.interval. */
  startedAt: number;
  lastUsed: number;
  /** Written since the last fdatasync. */
  dirty: boolean;
}

/** What is left of a batch whose write failed part-way: the time its paths were rendered with and the files
 * it already reached, so the core's retry does not write those groups twice. */
interface Partial {
  now: number;
  done: Set<string>;
}

const code = (err: unknown) => (err as NodeJS.ErrnoException)?.code;

/** Errors no retry can fix get PermanentError; the rest (EACCES, ENOSPC, EROFS, EMFILE...) are retried. */
function classify(err: unknown, file: string): Error {
  const c = code(err);
  const msg = (err as Error)?.message ?? String(err);
  if (c === 'EISDIR') return new PermanentError(`file output: ${file} is a directory; \`path\` must name a file (${msg})`);
  if (c === 'ENOTDIR' || c === 'EEXIST') return new PermanentError(`file output: a parent of ${file} exists and is not a directory (${msg})`);
  if (c === 'ENAMETOOLONG') return new PermanentError(`file output: ${file}: name too long`);
  if (err instanceof PermanentError) return err;
  const e = new Error(`file output: cannot write ${file}: ${msg}`) as NodeJS.ErrnoException;
  if (c) e.code = c;
  return e;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export default definePlugin({
  kind: 'output',
  name: 'file',
  description: 'Appends events to files, one per line (json, text or a template); the path is a template (fields, event time), rotation by size and/or age with numbered files (name.1 is the newest), optional fdatasync and gzip.',
  // What it writes (only_fields, a template) and what names its files (the path's fields and the event time),
  // when that is not every field: the parsers upstream may skip the rest.
  reads: (options) => {
    const written = encoderReads(options);
    return written && [...written, ...compileTemplate(options.path).fields, 'timestamp'];
  },
  schema: {
    type: 'object',
    allOf: [ENCODING_RULES],
    required: ['path'],
    properties: {
      path: templateSchema('File to append to, relative to the config file; a template: {{ field }} inserts an event field, strftime directives (%Y-%m-%d, %H) the event time (its timestamp, else now), e.g. out/{{ vhost }}/access-%Y-%m-%d.log.'),
      ...encodingSchema('json'),
      timezone: timezoneSchema('UTC', 'Zone of the strftime directives in path'),
      mkdir: { type: 'boolean', default: true, description: 'Create missing directories of the path.' },
      file_mode: { type: 'string', pattern: '^0?[0-7]{3}$', default: '0644', description: 'Permissions of new files (octal; the umask applies).' },
      dir_mode: { type: 'string', pattern: '^0?[0-7]{3}$', default: '0755', description: 'Permissions of new directories (octal; the umask applies).' },
      rotate: {
        type: 'object',
        additionalProperties: false,
        description: 'Rotation of each file: when a write would take it past max_size, or when it is older than interval, it is renamed to NAME.1 (older ones shift to .2, .3 ...; NAME.1.gz with compression) and a new file is started.',
        properties: {
          max_size: { size: true, description: 'Largest size of a file; a batch never straddles two files (a single batch larger than this gets a file of its own).' },
          interval: { duration: true, description: 'Rotate a non-empty file this long after it was started (checked at each write and every second).' },
          keep: { type: 'integer', minimum: 1, description: 'Rotated files kept per path (NAME.1 .. NAME.keep); older ones are deleted. Absent: all are kept.' },
        },
      },
      fsync: {
        enum: ['never', 'batch', 'interval'], default: 'never',
        description: 'never: a write is done when the kernel has the data (survives a crash of the agent, not of the machine); batch: fdatasync before each write resolves; interval: fdatasync every fsync_interval.',
      },
      fsync_interval: { duration: true, default: '1s', description: 'With fsync: interval, how often written files are synced.' },
      compression: { enum: ['none', 'gzip'], default: 'none', description: 'gzip: each batch is one gzip member appended to the file (zcat reads the concatenation); sizes are compressed bytes.' },
      max_open_files: { type: 'integer', minimum: 1, default: 64, description: 'Most files kept open; the least recently written is closed beyond it.' },
      idle_timeout: { duration: true, default: '30s', description: 'Close a file not written for this long (it is reopened on the next event for it).' },
    },
  },
  // With service.threads > 1 and a parser feeding only this output, the parser's worker writes the JSON (or text) of
  // its results and this output appends those bytes as they came: the main thread no longer rebuilds the events from
  // their columns and encodes them one by one. Not with a path that names files by fields or time (the events are
  // needed to pick the file) nor with format: template (its strftime directives read the clock when an event has
  // no time).
  encodes: {
    accepts: (options) => options.format !== 'template' && !compileTemplate(options.path).dynamic,
    encoder: (options) => createLinesEncoder(options),
  },
  create(options, context) {
    const encode = createEncoder(options);
    const encodeBatch = createLinesEncoder(options);
    let pathTemplate;
    try {
      pathTemplate = compileTemplate(options.path, { timeZone: parseTimeZone(options.timezone) });
    } catch (err) {
      throw new Error(`path: ${(err as Error).message}`);
    }
    const template = pathTemplate;
    const base = context.configDir;
    const constantPath = template.dynamic ? '' : path.resolve(base, template.source);
    const fileMode = parseInt(options.file_mode, 8);
    const dirMode = parseInt(options.dir_mode, 8);
    const rotate = options.rotate ?? {};
    const maxSize = rotate.max_size ?? 0;
    const interval = rotate.interval ?? 0;
    const keep = rotate.keep;
    const sync = options.fsync;
    const gz = options.compression === 'gzip';
    // Read access too: a torn last line left by a crash is found and cut when a file is reopened.
    const flags = fs.constants.O_RDWR | fs.constants.O_APPEND | fs.constants.O_CREAT;

    const opened = context.metrics.counter('file_opened_total', 'Files opened (created or appended to).');
    const rotations = context.metrics.counter('file_rotations_total', 'Files rotated (renamed to NAME.1).');
    const openGauge = context.metrics.gauge('file_open_files', 'Files currently open.');
    const sentBytes = context.metrics.sentBytes;

    /** Open files by absolute path, least recently written first. */
    const files = new Map<string, OpenFile>();
    const partials = new WeakMap<Event[], Partial>();
    let closed = false;

    // Every file operation runs in one queue: a rotation or an idle close never races a write.
    let chain: Promise<unknown> = Promise.resolve();
    const serial = <T>(fn: () => Promise<T>): Promise<T> => {
      const p = chain.then(fn);
      chain = p.catch(() => undefined);
      return p;
    };

    async function release(f: OpenFile, syncFirst: boolean): Promise<void> {
      files.delete(f.path);
      openGauge.set(files.size);
      try {
        if (syncFirst && f.dirty && sync !== 'never') await fdatasync(f.fd);
      } finally {
        await closeFd(f.fd);
      }
    }

    async function open(file: string): Promise<OpenFile> {
      if (files.size >= options.max_open_files) {
        const lru = files.values().next().value as OpenFile;
        await release(lru, true);
      }
      let fd: number;
      try {
        fd = await openFd(file, flags, fileMode);
      } catch (err) {
        if (code(err) !== 'ENOENT' || !options.mkdir) throw err;
        await mkdir(path.dirname(file), { recursive: true, mode: dirMode });
        fd = await openFd(file, flags, fileMode);
      }
      let st: fs.Stats;
      let size = 0;
      try {
        st = await fstat(fd);
        size = st.size;
        if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
        if (st.size === 0 && sync === 'batch') await syncDir(path.dirname(file)); // the new name is durable too
        if (!gz && st.size > 0) {
          const whole = await repairTail(fd, st.size);
          if (whole !== st.size) context.logger.warn('cut a torn last line (a write interrupted by a crash, never acknowledged)', { file, bytes: st.size - whole });
          size = whole;
        }
      } catch (err) {
        await closeFd(fd).catch(() => undefined);
        throw err;
      }
      const now = Date.now();
      const f: OpenFile = {
        path: file, fd, size, lastUsed: now, dirty: false,
        startedAt: size > 0 && st.birthtimeMs > 0 ? st.birthtimeMs : now,
      };
      files.set(file, f);
      opened.inc();
      openGauge.set(files.size);
      return f;
    }

    /** NAME.N, or STEM.N.gz for a compressed NAME = STEM.gz (logrotate's naming). */
    function nameParts(file: string): { stem: string; suffix: string } {
      return gz && file.endsWith('.gz') ? { stem: file.slice(0, -3), suffix: '.gz' } : { stem: file, suffix: '' };
    }
    function rotatedName(file: string, n: number): string {
      const { stem, suffix } = nameParts(file);
      return `${stem}.${n}${suffix}`;
    }

    /** NAME -> NAME.1, NAME.1 -> NAME.2 ...; beyond keep, deleted. Everything written is already in NAME. */
    async function rotateFile(f: OpenFile): Promise<void> {
      await release(f, true);
      const dir = path.dirname(f.path);
      const { stem, suffix } = nameParts(f.path);
      const re = new RegExp(`^${escapeRe(path.basename(stem))}\\.(\\d+)${escapeRe(suffix)}$`);
      const numbers = (await readdir(dir)).map((n) => re.exec(n)).filter((m): m is RegExpExecArray => !!m).map((m) => Number(m[1])).sort((a, b) => b - a);
      for (const n of numbers) {
        if (n === 0) continue;
        if (keep !== undefined && n >= keep) await unlink(rotatedName(f.path, n)).catch((e) => { if (code(e) !== 'ENOENT') throw e; });
        else await rename(rotatedName(f.path, n), rotatedName(f.path, n + 1));
      }
      await rename(f.path, rotatedName(f.path, 1));
      if (sync !== 'never') await syncDir(dir);
      rotations.inc();
      context.logger.debug('rotated', { file: f.path, size: f.size });
    }

    const due = (f: OpenFile, now: number, add: number) =>
      f.size > 0 && ((maxSize > 0 && f.size + add > maxSize) || (interval > 0 && now - f.startedAt >= interval));

    /** Appends one group (the lines of a batch for one file): rotate first when due, one write, undo a torn write. */
    async function append(file: string, data: Buffer): Promise<void> {
      let f = files.get(file) ?? (await open(file));
      if ((maxSize || interval) && due(f, Date.now(), data.length)) {
        await rotateFile(f);
        f = await open(file);
      }
      try {
        await writeAll(f.fd, data);
      } catch (err) {
        // A write cut short (disk full) would leave half a line: cut the file back to where this write began,
        // so the retry appends whole lines only.
        await ftruncate(f.fd, f.size).catch(() => undefined);
        await release(f, false).catch(() => undefined);
        throw err;
      }
      f.size += data.length;
      f.dirty = true;
      f.lastUsed = Date.now();
      files.delete(file); // most recently written last
      files.set(file, f);
      sentBytes.inc(data.length);
      if (sync === 'batch') {
        await fdatasync(f.fd);
        f.dirty = false;
      }
    }

    async function writeBatch(events: Event[]): Promise<void> {
      if (closed) throw new Error('file output: written after close');
      if (!template.dynamic) return writeEncodedBatch(encodeBatch(events));
      const partial = partials.get(events);
      const now = partial?.now ?? Date.now();
      const byName = new Map<string, string>();
      for (const e of events) {
        const name = template.render(e, now);
        const line = encode(e) + '\n';
        const prev = byName.get(name);
        byName.set(name, prev === undefined ? line : prev + line);
      }
      const groups = new Map<string, string>();
      for (const [name, text] of byName) {
        if (!name || name.endsWith('/')) throw new PermanentError(`file output: path "${template.source}" rendered to "${name}", not a file name (a field is missing?)`);
        const abs = path.resolve(base, name);
        const prev = groups.get(abs);
        groups.set(abs, prev === undefined ? text : prev + text);
      }
      const done = partial?.done ?? new Set<string>();
      for (const [file, text] of groups) {
        if (done.has(file) || !text) continue;
        try {
          await appendLines(file, Buffer.from(text));
        } catch (err) {
          if (done.size) partials.set(events, { now, done });
          throw classify(err, file);
        }
        done.add(file);
      }
      partials.delete(events);
    }

    async function appendLines(file: string, raw: Buffer): Promise<void> {
      await append(file, gz ? await gzip(raw) : raw);
    }

    /** A batch's lines to the one file of a constant path, encoded here or by a worker (Plugin.encodes): one group,
     * written whole or not at all (append cuts a torn write back, and a retry writes it again). */
    async function writeEncodedBatch(data: Uint8Array): Promise<void> {
      if (closed) throw new Error('file output: written after close');
      if (data.byteLength === 0) return;
      try {
        await appendLines(constantPath, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      } catch (err) {
        throw classify(err, constantPath);
      }
    }

    async function syncDirty(): Promise<void> {
      for (const f of files.values()) {
        if (!f.dirty) continue;
        await fdatasync(f.fd);
        f.dirty = false;
      }
    }

    async function housekeeping(): Promise<void> {
      if (closed) return;
      const now = Date.now();
      for (const f of [...files.values()]) {
        if (interval > 0 && due(f, now, 0)) await rotateFile(f);
        else if (now - f.lastUsed >= options.idle_timeout) await release(f, true);
      }
    }

    return {
      start() {
        const tick = Math.max(50, Math.min(1000, interval || 1000, options.idle_timeout / 2));
        context.timers.every(tick, () => serial(housekeeping));
        if (sync === 'interval') context.timers.every(options.fsync_interval, () => serial(syncDirty));
      },
      write(events) {
        return serial(() => writeBatch(events));
      },
      writeEncoded(data) {
        return serial(() => writeEncodedBatch(data));
      },
      flush() {
        return serial(async () => { if (sync !== 'never') await syncDirty(); });
      },
      close() {
        return serial(async () => {
          closed = true;
          const errors: unknown[] = [];
          for (const f of [...files.values()]) await release(f, true).catch((e) => errors.push(e));
          if (errors.length) throw errors[0];
        });
      },
      health() {
        return { healthy: true, details: { open_files: files.size } };
      },
    };
  },
});
