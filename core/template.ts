// Templates for paths, topics and text lines, in Vector's spelling: `{{ field.path }}` inserts an event field,
// strftime directives (`%Y-%m-%d`) render the event's `timestamp` (epoch ms; the current time when absent).
import { getField, splitFieldPath } from './expr/index.js';
import { compileStrftimeRenderer } from './strftime.js';
import { checkByParsing } from './config/schema.js';
import type { Event } from './api.js';
import type { OptionSchema } from './option-types.js';
import type { TimeZone } from './timezone.js';

export interface Template {
  /** The template text as written. */
  readonly source: string;
  /** True when the result depends on the event (fields or time); false for a constant. */
  readonly dynamic: boolean;
  /** Field paths the template reads. */
  readonly fields: string[];
  render(event: Event, now?: number): string;
}

export interface TemplateOptions {
  /** Zone for strftime directives (default UTC). */
  timeZone?: TimeZone;
  /** Text for a missing field (default empty). */
  missing?: string;
  /** Whether `%` starts a strftime directive (default true). */
  strftime?: boolean;
}

type Piece = (event: Event, now: number) => string;

const FIELD = /\{\{\s*([^{}\s]+)\s*\}\}/g;

/** A field value as text in a template, a mail or a table: strings as they are, numbers and booleans
 * printed, dates in ISO 8601, objects and arrays as JSON; `missing` for undefined or null. */
export function fieldText(value: unknown, missing = ''): string {
  if (value === undefined || value === null) return missing;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}

/** Compiles once; throws an Error naming the problem (unsupported directive, empty field name). */
export function compileTemplate(source: string, options: TemplateOptions = {}): Template {
  const missing = options.missing ?? '';
  const zone = options.timeZone;
  const useTime = options.strftime !== false && /%./.test(source.replace(FIELD, ''));
  const pieces: Array<string | Piece> = [];
  const fields: string[] = [];
  let last = 0;
  const addText = (text: string) => {
    if (!text) return;
    if (!useTime) return void pieces.push(text);
    const render = compileStrftimeRenderer(text);
    // Rendered once per second of event time: consecutive events mostly share it (one Date and string per
    // second, not per event, for paths such as access-%Y-%m-%d.log).
    let second = NaN;
    let rendered = '';
    pieces.push((event, now) => {
      const ts = typeof event.timestamp === 'number' && Number.isFinite(event.timestamp) ? event.timestamp : now;
      const s = Math.floor(ts / 1000);
      if (s !== second) {
        second = s;
        rendered = render(ts, zone ? zone.offsetMinutes(ts) : 0);
      }
      return rendered;
    });
  };
  for (const m of source.matchAll(FIELD)) {
    addText(source.slice(last, m.index));
    const path = m[1];
    const parts = splitFieldPath(path);
    fields.push(path);
    pieces.push((event) => fieldText(getField(event, parts), missing));
    last = m.index! + m[0].length;
  }
  addText(source.slice(last));
  if (/\{\{|\}\}/.test(pieces.filter((p) => typeof p === 'string').join(''))) {
    throw new Error(`unbalanced "{{ }}" in template "${source}" (write {{ field }})`);
  }
  const dynamic = fields.length > 0 || useTime;
  const constant = dynamic ? '' : pieces.join('');
  return {
    source,
    dynamic,
    fields,
    render(event, now = Date.now()) {
      if (!dynamic) return constant;
      let out = '';
      for (const p of pieces) out += typeof p === 'string' ? p : p(event, now);
      return out;
    },
  };
}

/** Schema of an option holding a template: a string checked to compile at config validation (`visor validate`
 * reports a bad one at its FILE:LINE:COL). `options` must be those the plugin compiles it with. */
export function templateSchema(description: string, options: Pick<TemplateOptions, 'strftime'> = {}) {
  return {
    type: 'string',
    minLength: 1,
    description,
    check: checkByParsing((value) => compileTemplate(String(value), options)),
  } as const satisfies OptionSchema;
}
