// The agent's own log: one structured line per record on stderr, never on stdout (stdout carries data).
import type { LogFields, Logger } from '../api.js';
import { maskSecrets } from '../secrets.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogSink {
  level: LogLevel;
  format: LogFormat;
  write(line: string): void;
  /** Secret values (passwords, tokens) masked in every line, whatever field carries them (core/secrets.ts). */
  secrets: Set<string>;
}

export function createLogSink(level: LogLevel = "info", format: LogFormat = "text", write: (line: string) => void = (line) => void process.stderr.write(line)): LogSink {
  return { level, format, write, secrets: new Set() };
}

export function createLogger(sink: LogSink, base: LogFields = {}): Logger {
  const log = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < RANK[sink.level]) return;
    const all = fields ? { ...base, ...fields } : base;
    sink.write(maskSecrets(sink.format === 'json' ? jsonLine(level, msg, all) : textLine(level, msg, all), sink.secrets) + '\n');
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (fields) => createLogger(sink, { ...base, ...fields }),
  };
}

function jsonLine(level: LogLevel, msg: string, fields: LogFields): string {
  return JSON.stringify({ ts: new Date().toISOString(), level, msg, ...normalise(fields) });
}

function textLine(level: LogLevel, msg: string, fields: LogFields): string {
  let line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}`;
  for (const [k, v] of Object.entries(normalise(fields))) {
    if (v === undefined) continue;
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    line += ` ${k}=${/[\s"=]/.test(s) || s === '' ? JSON.stringify(s) : s}`;
  }
  return line;
}

/** Errors do not survive JSON.stringify; keep their message. */
function normalise(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) out[k] = v instanceof Error ? v.message : v;
  return out;
}
