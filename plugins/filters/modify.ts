// Edits fields: rename, copy, set, add, set_expr, remove, keep — applied in that order, each map in the order
// written. Dotted names (`http.status`) address nested objects. Never throws on an event: an edit that cannot be
// made (a value that is not an object sits where a nested field should go) is skipped and counted.
import {
  compileExpression, definePlugin, getField, hasField, removeField, setField, splitFieldPath,
  type Counter, type Event, type OptionSchema, type OptionsOf,
} from '../../core/index.js';

const SKIPPED = 'field_not_an_object';

/** One edit of one event; returns false when it could not be made. */
type Edit = (event: Event) => boolean;

// Field names: dot-separated, no empty level.
const FIELD_PATTERN = '^[^.]+(\\.[^.]+)*$';
const FIELD = { type: 'string', pattern: FIELD_PATTERN } as const;
const fieldMap = <const V extends OptionSchema>(values: V, description: string) => ({
  type: 'object', propertyNames: { pattern: FIELD_PATTERN }, additionalProperties: values, description,
}) as const;

const MODIFY_SCHEMA = {
  type: 'object',
  properties: {
    rename: fieldMap(FIELD, 'Moves each field {old: new}, replacing the new one if present; absent fields are skipped.'),
    copy: fieldMap(FIELD, 'Copies each field {from: to}, replacing the target if present; absent fields are skipped.'),
    set: fieldMap({}, 'Sets each field to the value (any YAML value), replacing it if present.'),
    add: fieldMap({}, 'Sets each field to the value only when the event does not have it.'),
    set_expr: fieldMap({ type: 'string', expression: true }, 'Sets each field to the value of an expression, e.g. {status_class: "floor(status / 100)"}; null when it has none. Later entries see earlier results.'),
    remove: { type: 'array', items: FIELD, description: 'Fields to remove.' },
    keep: { type: 'array', items: FIELD, description: 'Fields to keep; all others are removed.' },
  },
} as const satisfies OptionSchema;

type ModifyOptions = OptionsOf<typeof MODIFY_SCHEMA>;

export default definePlugin({
  kind: 'filter',
  name: 'modify',
  description: 'Edits fields, in this order: rename, copy, set, add, set_expr, remove, keep. Dotted names (a.b) address nested objects.',
  schema: MODIFY_SCHEMA,
  create(options, context) {
    const edits = compileEdits(options);
    const skipped: Counter = context.metrics.errors(SKIPPED);
    const reportSkipped = () => {
      if (skipped.value === 0) context.logger.warn(`an edit was skipped: a field on its path holds a value that is not an object (counted as error_type="${SKIPPED}")`);
      skipped.inc();
    };
    return {
      process(events) {
        for (let i = 0; i < events.length; i++) {
          const event = events[i];
          for (let k = 0; k < edits.length; k++) if (!edits[k](event)) reportSkipped();
        }
        return events;
      },
    };
  },
});

function compileEdits(options: ModifyOptions): Edit[] {
  const edits: Edit[] = [];
  for (const [from, to] of Object.entries(options.rename ?? {})) edits.push(renameEdit(splitFieldPath(from), splitFieldPath(to)));
  for (const [from, to] of Object.entries(options.copy ?? {})) edits.push(copyEdit(splitFieldPath(from), splitFieldPath(to)));
  for (const [field, value] of Object.entries(options.set ?? {})) edits.push(setEdit(splitFieldPath(field), value, true));
  for (const [field, value] of Object.entries(options.add ?? {})) edits.push(setEdit(splitFieldPath(field), value, false));
  for (const [field, text] of Object.entries(options.set_expr ?? {})) {
    const path = splitFieldPath(field);
    const expression = compileExpression(text);
    edits.push((event) => setField(event, path, expression(event)));
  }
  for (const field of options.remove ?? []) {
    const path = splitFieldPath(field);
    edits.push((event) => (removeField(event, path), true));
  }
  if (options.keep) edits.push(keepEdit(options.keep.map(splitFieldPath)));
  return edits;
}

function renameEdit(from: string[], to: string[]): Edit {
  return (event) => {
    if (!hasField(event, from)) return true;
    const value = getField(event, from);
    // Remove first, so that a move into or out of itself (`a` → `a.b`, `a.b` → `a`) works; put the value
    // back if the target cannot be written, so a failed rename loses nothing.
    removeField(event, from);
    if (setField(event, to, value)) return true;
    setField(event, from, value);
    return false;
  };
}

function copyEdit(from: string[], to: string[]): Edit {
  return (event) => !hasField(event, from) || setField(event, to, getField(event, from));
}

/** `set` (overwrite) and `add` (only when absent). An object or list value is copied for each event, so
 * that no two events (or a downstream edit and the config) ever share it. */
function setEdit(path: string[], value: unknown, overwrite: boolean): Edit {
  const isScalar = value === null || typeof value !== 'object';
  const fresh = isScalar ? () => value : () => structuredClone(value);
  return (event) => (!overwrite && hasField(event, path)) || setField(event, path, fresh());
}

/** Rebuild the event with only the kept fields (nested ones keep their nesting). */
function keepEdit(paths: string[][]): Edit {
  return (event) => {
    const kept: Event = {};
    for (const path of paths) if (hasField(event, path)) setField(kept, path, getField(event, path));
    for (const key of Object.keys(event)) delete event[key];
    for (const key of Object.keys(kept)) setField(event, [key], kept[key]);
    return true;
  };
}
