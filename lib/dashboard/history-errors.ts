// The error-log figures of a history view from stored events, in the live model's shape (DashboardErrorLog and
// the per-level template lists): the store groups by message text, this groups those texts by template.
import { bySeverity, templateOf, type MessageItem } from '../stats/index.js';
import type { DashboardErrorLog } from './model.js';

/** Stored error-log lines grouped by level, module and message fields, with their count. */
export interface StoredMessageRow {
  level: unknown;
  message_text: unknown;
  error_code: unknown;
  errno: unknown;
  errno_text: unknown;
  n: number;
}

/** The top `topN` templates of each level (most severe first), a sample each. */
export function storedMessages(rows: StoredMessageRow[], topN: number): MessageItem[] {
  const byLevel = new Map<string, Map<string, MessageItem>>();
  for (const r of rows) {
    if (typeof r.level !== 'string' || typeof r.message_text !== 'string' || !r.message_text) continue;
    const errno = r.errno === null || r.errno === undefined ? undefined : Number(r.errno);
    const { template, message } = templateOf({ error_code: r.error_code, errno, errno_text: r.errno_text }, r.message_text);
    let m = byLevel.get(r.level);
    if (!m) byLevel.set(r.level, (m = new Map()));
    const had = m.get(template);
    if (had) had.count += r.n;
    else m.set(template, { value: template, count: r.n, level: r.level, sample: message() });
  }
  const out: MessageItem[] = [];
  for (const level of [...byLevel.keys()].sort(bySeverity)) {
    out.push(...[...byLevel.get(level)!.values()].sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1)).slice(0, topN));
  }
  return out;
}

/** Lines per level (most severe first) and per level and module. */
export function storedErrorLog(rows: Array<{ level: unknown; module: unknown; n: number }>, messageLevel: string, topN: number): DashboardErrorLog {
  const levels = new Map<string, number>();
  const modules: Array<[string, string, number]> = [];
  for (const r of rows) {
    if (typeof r.level !== 'string') continue;
    levels.set(r.level, (levels.get(r.level) ?? 0) + r.n);
    modules.push([r.level, typeof r.module === 'string' && r.module ? r.module : '-', r.n]);
  }
  return {
    levels: Object.fromEntries([...levels].sort((a, b) => bySeverity(a[0], b[0]))),
    modules,
    message_level: messageLevel,
    message_bounds: {},
    top_n: topN,
  };
}
