// Compiles an ErrorLogFormat string (Apache 2.4 core) into fields, following how Apache itself reads it
// (server/core.c parse_errorlog_item): a space or `% ` starts a new field; `\ ` is a space inside a field.
// When an item of a field has nothing to write (no client, no errno...), Apache drops the whole field, so
// every field holding such an item is optional when matching a line. `%-x` writes `-` instead.

export type ItemKind =
  | 'literal'
  | 'time' // %t %{u}t %{cu}t ...
  | 'module' | 'level' | 'pid' | 'tid'
  | 'source' // %F: file.c(123)
  | 'errno' // %E: (70007)The timeout specified has expired
  | 'client' // %a: ip:port
  | 'address' // %A, %{c}a: ip:port into <name>_ip / <name>_port
  | 'message' // %M
  | 'string' | 'int';

export interface FormatItem {
  kind: ItemKind;
  /** The text of a literal; the directive as written otherwise (for messages). */
  text: string;
  /** The event field a `string`/`int` item fills, or the prefix of an `address` item's two fields. */
  name: string;
  /** `%-x`: an empty value is written as `-`, and the field is never dropped. */
  hyphen: boolean;
  /** `%7F`: written only at this level or more verbose (7 = debug). */
  minLevel: number;
}

export interface FormatField {
  items: FormatItem[];
  /** Apache leaves the field out when one of its items is empty. */
  optional: boolean;
}

export interface CompiledErrorFormat {
  source: string;
  fields: FormatField[];
  /** Fields the format adds besides the standard ones (vhost, http_user_agent, local_ip, ...). */
  extraFields: string[];
}

export class ErrorFormatError extends Error {}

export const SUPPORTED_ERROR_DIRECTIVES = '%t %{u}t %{c}t %{cu}t (and z for a UTC offset) %m %l %P %T %{g}T %a %{c}a %A %F %E %M %L %{c}L %{C}L %k %v %V %{Name}i %{Name}e %{Name}n %%';

/** Items that are never empty for a logged message: a field holding only these is always written. */
const ALWAYS_WRITTEN = new Set<ItemKind>(['literal', 'time', 'level', 'pid', 'message']);

const PLAIN: Record<string, Pick<FormatItem, 'kind' | 'name'>> = {
  t: { kind: 'time', name: 'timestamp' }, m: { kind: 'module', name: 'module' }, l: { kind: 'level', name: 'level' },
  P: { kind: 'pid', name: 'pid' }, T: { kind: 'tid', name: 'tid' }, F: { kind: 'source', name: 'source_file' },
  E: { kind: 'errno', name: 'errno' }, a: { kind: 'client', name: 'client' }, A: { kind: 'address', name: 'local' },
  M: { kind: 'message', name: 'message_text' }, L: { kind: 'string', name: 'log_id' }, k: { kind: 'int', name: 'keepalive_requests' },
  v: { kind: 'string', name: 'vhost' }, V: { kind: 'string', name: 'server_name' },
};

const TABLE_PREFIX: Record<string, string> = { i: 'http_', e: 'env_', n: 'note_' };
const WELL_KNOWN_HEADERS: Record<string, string> = { referer: 'referer', 'user-agent': 'user_agent' };

function snake(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');
}

function describe(letter: string, arg: string | undefined, directive: string): Pick<FormatItem, 'kind' | 'name'> {
  if (arg !== undefined && TABLE_PREFIX[letter]) {
    const known = letter === 'i' ? WELL_KNOWN_HEADERS[arg.toLowerCase()] : undefined;
    return { kind: 'string', name: known ?? TABLE_PREFIX[letter] + snake(arg) };
  }
  if (letter === 't' && (arg === undefined || /^[ucz]*$/.test(arg))) return PLAIN.t;
  if (letter === 'T' && (arg === undefined || arg === 'g')) return PLAIN.T;
  if (letter === 'a' && arg === 'c') return { kind: 'address', name: 'peer' };
  if (letter === 'L' && (arg === 'c' || arg === 'C')) return { kind: 'string', name: 'connection_log_id' };
  const plain = arg === undefined ? PLAIN[letter] : undefined;
  if (!plain) throw new ErrorFormatError(`unsupported directive ${directive}; supported: ${SUPPORTED_ERROR_DIRECTIVES}`);
  return plain;
}

export function compileErrorFormat(source: string): CompiledErrorFormat {
  const items: Array<FormatItem & { fieldStart: boolean }> = [];
  let i = 0;
  const s = source;
  while (i < s.length) {
    let fieldStart = false;
    if (s[i] === '%' && s[i + 1] === ' ') { // `% `: a field separator that writes nothing
      fieldStart = true;
      i += 2;
      if (i >= s.length) break;
    }
    if (s[i] !== '%') {
      // A literal: leading spaces belong to it (and start a field); the next unescaped space or % ends it.
      if (s[i] === ' ') fieldStart = true;
      let text = '';
      let atStart = true;
      while (i < s.length && s[i] !== '%' && (s[i] !== ' ' || atStart)) {
        if (s[i] === '\\' && i + 1 < s.length) {
          const n = s[i + 1];
          text += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n;
          i += 2; // as in Apache, an escaped character (`\ `) does not end the leading spaces
          continue;
        }
        if (s[i] !== ' ') atStart = false;
        text += s[i++];
      }
      items.push({ kind: 'literal', text, name: '', hyphen: false, minLevel: 0, fieldStart });
      continue;
    }
    const start = i++;
    if (s[i] === '%') {
      items.push({ kind: 'literal', text: '%', name: '', hyphen: false, minLevel: 0, fieldStart });
      i++;
      continue;
    }
    let arg: string | undefined;
    let hyphen = false;
    let minLevel = 0;
    for (;;) {
      const c = s[i];
      if (c === undefined) throw new ErrorFormatError(`"${source}" ends inside the directive at column ${start + 1}`);
      if (c === '{') {
        const close = s.indexOf('}', i);
        if (close < 0) throw new ErrorFormatError(`unclosed { at column ${i + 1} of "${source}"`);
        arg = s.slice(i + 1, close);
        i = close + 1;
      } else if (c === '-') {
        hyphen = true;
        i++;
      } else if (c === '+') {
        i++; // "omit the whole line when empty": lines that are written have the item
      } else if (c >= '0' && c <= '9') {
        let n = 0;
        while (s[i] >= '0' && s[i] <= '9') n = n * 10 + Number(s[i++]);
        minLevel = n;
      } else {
        i++;
        const directive = s.slice(start, i);
        items.push({ ...describe(c, arg, directive), text: directive, hyphen, minLevel, fieldStart });
        break;
      }
    }
  }
  return assemble(source, items);
}

function assemble(source: string, items: Array<FormatItem & { fieldStart: boolean }>): CompiledErrorFormat {
  const fields: FormatField[] = [];
  for (const { fieldStart, ...item } of items) {
    if (fieldStart || fields.length === 0) fields.push({ items: [], optional: false });
    const field = fields[fields.length - 1];
    // Adjacent literals (`%%` inside text) are one literal to match.
    const last = field.items[field.items.length - 1];
    if (item.kind === 'literal' && last?.kind === 'literal') last.text += item.text;
    else field.items.push(item);
    if (item.minLevel > 0 || (!ALWAYS_WRITTEN.has(item.kind) && !item.hyphen)) field.optional = true;
  }
  const all = fields.flatMap((f) => f.items);
  if (!all.some((it) => it.kind !== 'literal')) throw new ErrorFormatError(`"${source}" has no % directive`);
  const messages = all.filter((it) => it.kind === 'message').length;
  if (messages > 1) throw new ErrorFormatError(`"${source}" has %M more than once`);
  checkTextAfterMessage(source, fields);
  const standard = new Set(['timestamp', 'module', 'level', 'pid', 'tid', 'source_file', 'errno', 'client', 'message_text', 'referer']);
  const extraFields: string[] = [];
  for (const it of all) {
    if (it.kind === 'literal' || standard.has(it.name)) continue;
    const names = it.kind === 'address' ? [`${it.name}_ip`, `${it.name}_port`] : [it.name];
    for (const n of names) {
      if (extraFields.includes(n)) throw new ErrorFormatError(`"${source}" logs ${it.text} twice`);
      extraFields.push(n);
    }
  }
  return { source, fields, extraFields };
}

/** The message can hold any text: what follows it must start with literal text, where its end is looked for. */
function checkTextAfterMessage(source: string, fields: FormatField[]): void {
  const fi = fields.findIndex((f) => f.items.some((it) => it.kind === 'message'));
  if (fi < 0) return;
  const items = fields[fi].items;
  const after = items[items.findIndex((it) => it.kind === 'message') + 1];
  const firsts = after ? [after] : fields.slice(fi + 1).map((f) => f.items[0]);
  if (firsts.some((it) => it.kind !== 'literal')) {
    throw new ErrorFormatError(`in "${source}", put literal text between %M and the directive after it (e.g. "%M% ,\\ referer\\ %{Referer}i"): the message can contain anything`);
  }
}
