// Turns a batch of events into the requests that carry them: grouped by rendered URL and headers (templates may
// differ per event), then one body per event (json, template) or per max_events (ndjson, json_array). The split
// is deterministic, so a retried batch (the same array) gives the same requests and the ones already accepted
// can be skipped (see index.ts).
import { compileTemplate, type Event, type Template } from '../../../core/index.js';
import type { BodyTemplate } from './json-template.js';

export interface PlannedRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The events in this body (for the dead letter). */
  events: Event[];
}

export interface PlanOptions {
  url: string;
  headers: Record<string, string>;
  format: 'json' | 'ndjson' | 'json_array' | 'template';
  maxEvents: number;
  body?: BodyTemplate;
}

export class RequestPlanner {
  private readonly url: Template;
  private readonly headers: Array<readonly [string, Template]>;
  private readonly dynamic: boolean;

  constructor(private readonly options: PlanOptions) {
    this.url = compileTemplate(options.url, { strftime: false });
    this.headers = Object.entries(options.headers).map(([name, t]) => [name, compileTemplate(t, { strftime: false })] as const);
    this.dynamic = this.url.dynamic || this.headers.some(([, t]) => t.dynamic);
  }

  plan(events: Event[]): PlannedRequest[] {
    const out: PlannedRequest[] = [];
    for (const group of this.groups(events)) {
      const { format, maxEvents } = this.options;
      if (format === 'json' || format === 'template') {
        for (const e of group.events) out.push({ url: group.url, headers: group.headers, body: this.one(e), events: [e] });
        continue;
      }
      for (let i = 0; i < group.events.length; i += maxEvents) {
        const chunk = group.events.slice(i, i + maxEvents);
        out.push({ url: group.url, headers: group.headers, body: format === 'ndjson' ? ndjson(chunk) : JSON.stringify(chunk), events: chunk });
      }
    }
    return out;
  }

  private one(e: Event): string {
    return this.options.body ? this.options.body.render(e) : JSON.stringify(e);
  }

  private render(e: Event): { url: string; headers: Record<string, string> } {
    const headers: Record<string, string> = {};
    for (const [name, t] of this.headers) headers[name] = t.render(e);
    return { url: this.url.render(e), headers };
  }

  private groups(events: Event[]): Array<{ url: string; headers: Record<string, string>; events: Event[] }> {
    if (!this.dynamic || events.length === 0) return [{ ...this.render(events[0] ?? {}), events }];
    const byKey = new Map<string, { url: string; headers: Record<string, string>; events: Event[] }>();
    for (const e of events) {
      const r = this.render(e);
      const key = JSON.stringify([r.url, r.headers]);
      let g = byKey.get(key);
      if (!g) byKey.set(key, (g = { ...r, events: [] }));
      g.events.push(e);
    }
    return [...byKey.values()];
  }
}

function ndjson(events: Event[]): string {
  let out = '';
  for (const e of events) out += JSON.stringify(e) + '\n';
  return out;
}
