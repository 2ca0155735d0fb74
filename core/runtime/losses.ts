// What a run failed to deliver, as a finite `visor run` reports it on stderr before exiting with EXIT_LOSSES:
// - events discarded, for any reason (visor_component_discarded_events_total: a filter or aggregate that threw,
//   an output that gave up, an output nobody reads, a plugin's own reasons such as line_too_long), except events
//   a side output declared `unread: 'drop'` (where's _rejected) sends nowhere;
// - input batches whose acknowledgement said `failed`;
// - an input whose run threw, a component whose final flush threw (what it still held may be lost).

export interface Loss {
  component: string;
  what: 'discarded' | 'failed_batches' | 'failed';
  /** The discard reason (`discarded`) or the step that threw (`failed`: `run`, `flush`). */
  reason?: string;
  count: number;
}

/** `a` and `b` added up, entry by entry. */
export function addLosses(a: readonly Loss[], b: readonly Loss[]): Loss[] {
  const byKey = new Map<string, Loss>();
  for (const l of [...a, ...b]) {
    const key = `${l.component}\0${l.what}\0${l.reason ?? ''}`;
    const existing = byKey.get(key);
    if (existing) existing.count += l.count;
    else byKey.set(key, { ...l });
  }
  return [...byKey.values()];
}

/** One sentence: `3 events discarded (f: 2 process_error; p: 1 unread_output__unparsed); 1 batch failed (in)`. */
export function describeLosses(losses: readonly Loss[]): string {
  const parts: string[] = [];
  const group = (what: Loss['what']) => losses.filter((l) => l.what === what && l.count > 0);
  const total = (ls: Loss[]) => ls.reduce((sum, l) => sum + l.count, 0);
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

  const discarded = group('discarded');
  if (discarded.length) {
    parts.push(`${plural(total(discarded), 'event', 'events')} discarded (${discarded.map((l) => `${l.component}: ${l.count} ${l.reason}`).join('; ')})`);
  }
  const batches = group('failed_batches');
  if (batches.length) {
    parts.push(`${plural(total(batches), 'batch', 'batches')} failed (${batches.map((l) => `${l.component}: ${l.count}`).join('; ')})`);
  }
  const failed = group('failed');
  if (failed.length) {
    parts.push(`${failed.map((l) => `${l.component} ${l.reason === 'run' ? 'failed' : `failed to ${l.reason}`}${l.count > 1 ? ` (${l.count} times)` : ''}`).join('; ')}`);
  }
  return parts.join('; ');
}
