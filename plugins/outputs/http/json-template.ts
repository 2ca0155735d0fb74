// A body template that stays valid JSON whatever the events hold: `{"text": "{{ name }}: {{ message }}"}`.
// A placeholder inside a JSON string gets the field's text escaped as string content (quotes, backslashes, new
// lines, control characters); one outside any string gets the field as a JSON value (a string quoted, a number
// as it is, an object as JSON, null when missing). So a message with `"` or a line break never breaks a Slack
// payload, and `{"count": {{ count }}}` sends a number. Where each placeholder sits is found once, at compile.
import { fieldText, getField, splitFieldPath, type Event } from '../../../core/index.js';

const FIELD = /\{\{\s*([^{}\s]+)\s*\}\}/g;

export interface BodyTemplate {
  render(event: Event): string;
}

/** Whether a JSON text ends inside a string literal, given whether it started inside one. */
function endsInString(text: string, inString: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
  }
  return inString;
}

function unbalanced(pieces: string[], source: string): void {
  if (pieces.some((p) => /\{\{|\}\}/.test(p))) throw new Error(`unbalanced "{{ }}" in template "${source}" (write {{ field }})`);
}

/** Compiles a JSON body template; throws when it is not JSON once its placeholders are filled in. */
export function compileJsonTemplate(source: string): BodyTemplate {
  const texts: string[] = [];
  const fields: Array<{ path: string[]; quoted: boolean }> = [];
  let last = 0;
  let inString = false;
  for (const m of source.matchAll(FIELD)) {
    const text = source.slice(last, m.index);
    inString = endsInString(text, inString);
    texts.push(text);
    fields.push({ path: splitFieldPath(m[1]), quoted: inString });
    last = m.index! + m[0].length;
  }
  texts.push(source.slice(last));
  unbalanced(texts, source);
  // Filled with stand-ins of the right kind, the template must parse: a typo is found by `visor validate`.
  let sample = texts[0];
  for (let i = 0; i < fields.length; i++) sample += (fields[i].quoted ? 'x' : '0') + texts[i + 1];
  try {
    JSON.parse(sample);
  } catch (err) {
    throw new Error(`the body template is not JSON (${(err as Error).message}); with escape: json it must be a JSON text with {{ field }} placeholders, e.g. {"text": "{{ message }}"} (escape: none sends it as written)`);
  }
  return {
    render(event) {
      let out = texts[0];
      for (let i = 0; i < fields.length; i++) {
        const value = getField(event, fields[i].path);
        out += fields[i].quoted ? JSON.stringify(fieldText(value)).slice(1, -1) : jsonValue(value);
        out += texts[i + 1];
      }
      return out;
    },
  };
}

function jsonValue(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'bigint') return String(value);
  return JSON.stringify(value instanceof Date ? value.toISOString() : value) ?? 'null';
}
