// How outputs turn events into lines: one JSON object per line, the `message` field as text, or a template.
// One implementation and one schema fragment for every output that writes lines (stdout, file, tcp, kafka).
import type { Event } from './api.js';
import { fieldReader, getField, removeField, setField, splitFieldPath } from './expr/index.js';
import type { CheckProblem } from './config/schema.js';
import type { OptionSchema, OptionsOf } from './option-types.js';
import { compileTemplate, templateSchema } from './template.js';

const LINE_FORMATS = ['json', 'text', 'template'] as const;
export type LineFormat = (typeof LINE_FORMATS)[number];

/** Schema properties `format` and `template` for an output's options (spread into `properties`). */
export function encodingSchema(defaultFormat: LineFormat = 'json') {
  return {
    format: {
      enum: LINE_FORMATS, default: defaultFormat,
      description: 'json: one JSON object per event; text: the message field (events without one are written as JSON); template: the `template` option rendered per event.',
    },
    template: templateSchema('With format: template (required then), the text of each line: {{ field }} inserts a field, strftime directives (%Y-%m-%d %H:%M:%S) the event time in UTC, %% a percent sign.'),
    only_fields: {
      type: 'array', items: { type: 'string', check: fieldPathProblem }, minItems: 1, uniqueItems: true,
      description: 'With format json (and text\'s JSON fallback): write only these fields (a.b for a nested one), in this order; missing ones are left out, e.g. [client_ip, timestamp, status] to leave out the raw line (message) a parser keeps. The parsers upstream then parse only what is written.',
    },
    except_fields: {
      type: 'array', items: { type: 'string', check: fieldPathProblem }, minItems: 1, uniqueItems: true,
      description: 'With format json (and text\'s JSON fallback): leave these fields out (a.b for a nested one), e.g. [message, file]; applied after only_fields.',
    },
  } as const satisfies Record<string, OptionSchema>;
}

/** `format` and `template` (required with format: template; `{{ field }}` and strftime directives, see
 * core/template.ts), as validated. */
export type EncodingOptions = OptionsOf<{ type: 'object'; properties: ReturnType<typeof encodingSchema> }>;

/** A field path as only_fields and except_fields take it: names joined by single dots. */
function fieldPathProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return value.split('.').some((name) => name === '') ? `"${value}" is not a field path: field names joined by dots, e.g. client_ip or geo.country` : undefined;
}

/** only_fields and except_fields choose the fields of JSON: a template names its own. */
function selectionProblems(value: unknown): CheckProblem[] {
  const o = value as Partial<Record<'format' | 'only_fields' | 'except_fields', unknown>> | null;
  if (!o || typeof o !== 'object' || o.format !== 'template') return [];
  return (['only_fields', 'except_fields'] as const).filter((k) => o[k] !== undefined)
    .map((k) => ({ at: k, message: `${k} applies to format json and text; a template writes the fields it names: remove ${k}, or use format: json` }));
}

/** Add to an output schema using encodingSchema (as `allOf: [ENCODING_RULES]`): format: template needs `template`;
 * only_fields and except_fields are for JSON. */
export const ENCODING_RULES = {
  if: { properties: { format: { const: 'template' } }, required: ['format'] },
  then: { required: ['template'] },
  check: selectionProblems,
} as const satisfies OptionSchema;

/** What only_fields and except_fields leave of an event (Vector's encoding.only_fields / except_fields): a new
 * object (the event itself is shared with other branches and never edited); undefined when neither is set. */
function fieldSelection(options: EncodingOptions): ((event: Event) => Event) | undefined {
  const only = options.only_fields?.map(splitFieldPath);
  const except = options.except_fields?.map(splitFieldPath);
  if (!only && !except) return undefined;
  const flatOnly = only?.every((p) => p.length === 1) ? only.map((p) => ({ key: p[0], read: fieldReader(p) })) : undefined;
  const flatExcept = except?.every((p) => p.length === 1) ? new Set(except.map((p) => p[0])) : undefined;
  const pick = (e: Event): Event => {
    if (!only) return e;
    const out: Event = {};
    if (flatOnly) {
      // One plain object built in a fixed key order: JSON.stringify's fast path, no path walking per event.
      for (const { key, read } of flatOnly) {
        const v = read(e);
        if (v !== undefined) out[key] = v;
      }
      return out;
    }
    for (const p of only) {
      const v = getField(e, p);
      if (v !== undefined) setField(out, p, v);
    }
    return out;
  };
  return (e) => {
    const picked = pick(e);
    if (!except) return picked;
    let out: Event;
    if (flatExcept) {
      out = {};
      for (const key in picked) if (!flatExcept.has(key) && Object.hasOwn(picked, key)) out[key] = picked[key];
      return out;
    }
    out = { ...picked };
    for (const p of except) removeField(out, p);
    return out;
  };
}

/** The fields an encoder writes, when it writes only some (template fields, only_fields, text's message); undefined
 * when it may write any. For an output's `Plugin.reads`. */
export function encoderReads(options: EncodingOptions): string[] | undefined {
  if (options.format === 'template') return options.template ? compileTemplate(options.template).fields : undefined;
  if (!options.only_fields) return undefined;
  return options.format === 'text' ? ['message', ...options.only_fields] : [...options.only_fields];
}

/** Compiles the options once; throws when format is template and the template is missing or invalid. */
export function createEncoder(options: EncodingOptions): (event: Event) => string {
  switch (options.format) {
    case 'json': {
      const select = fieldSelection(options);
      if (!select) return (e) => JSON.stringify(e);
      return (e) => JSON.stringify(select(e));
    }
    case 'text': {
      const select = fieldSelection(options) ?? ((e: Event) => e);
      return (e) => (typeof e.message === 'string' ? e.message : JSON.stringify(select(e)));
    }
    case 'template': {
      if (!options.template) throw new Error('format: template needs a `template` option, e.g. template: "{{ client_ip }} {{ status }}"');
      const template = compileTemplate(options.template);
      return (e) => template.render(e);
    }
  }
}

/** Encodes a batch as newline-terminated lines. */
export function encodeLines(events: Event[], encode: (event: Event) => string): string {
  let out = '';
  for (const e of events) out += encode(e) + '\n';
  return out;
}

const utf8 = new TextEncoder();
const CUT = Buffer.from('},{"');

/** The UTF-8 bytes of encodeLines(events, createEncoder(options)), in a buffer of their own (a worker thread moves it
 * to the main thread: Plugin.encodes), faster for JSON (see jsonLines). */
export function createLinesEncoder(options: EncodingOptions): (events: Event[]) => Uint8Array {
  if (options.format !== 'json') {
    const encode = createEncoder(options);
    return (events) => utf8.encode(encodeLines(events, encode));
  }
  const select = fieldSelection(options);
  return (events) => jsonLines(select ? events.map(select) : events);
}

/** The JSON lines of a batch from one JSON.stringify of the whole array, its `},{"` between the events turned into
 * `}\n{"` in its UTF-8 bytes. Against one JSON.stringify an event and one string of the lines (1M parsed access
 * events, 3 alternating rounds, load 5.8-7.3): user CPU -0.45 to -0.55 s with the cut made by replaceAll on the
 * text, whose second copy of each batch cost +0.1-0.4 s of sys (page faults); patching the bytes avoids that copy.
 * When every event is a plain object whose JSON begins with a key, the sequence occurs between each two events; it
 * may also occur inside one (objects in an array, a string ending in `},{`), so the cut is made only when it occurs
 * exactly events.length - 1 times: then only between them. Otherwise, one JSON.stringify an event. */
function jsonLines(events: Event[]): Uint8Array {
  if (events.length === 0) return new Uint8Array(0);
  for (let i = 0; i < events.length; i++) if (!beginsWithKey(events[i])) return eachLine(events);
  const bytes = utf8.encode(JSON.stringify(events));
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const cuts: number[] = [];
  for (let at = buf.indexOf(CUT); at >= 0; at = buf.indexOf(CUT, at + 4)) {
    if (cuts.length === events.length - 1) return eachLine(events);
    cuts.push(at + 1);
  }
  if (cuts.length !== events.length - 1) return eachLine(events);
  for (const comma of cuts) bytes[comma] = 10;
  bytes[bytes.length - 1] = 10; // the array's closing bracket: the last line's newline
  return bytes.subarray(1);
}

const eachLine = (events: Event[]): Uint8Array => utf8.encode(encodeLines(events, stringify));
const stringify = (e: Event): string => JSON.stringify(e);

/** Whether JSON.stringify writes `e` as an object beginning with `{"` (a key whose value it writes). */
function beginsWithKey(e: Event): boolean {
  if (typeof e !== 'object' || e === null || Array.isArray(e) || typeof (e as { toJSON?: unknown }).toJSON === 'function') return false;
  for (const k in e) {
    const v = e[k];
    if (v !== undefined && typeof v !== 'function' && typeof v !== 'symbol') return Object.hasOwn(e, k);
  }
  return false;
}
