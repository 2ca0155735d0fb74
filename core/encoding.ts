// How outputs turn events into lines: one JSON object per line, the `message` field as text, or a template.
// One implementation and one schema fragment for every output that writes lines (stdout, file, tcp, kafka).
import type { Event } from './api.js';
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
  } as const satisfies Record<string, OptionSchema>;
}

/** `format` and `template` (required with format: template; `{{ field }}` and strftime directives, see
 * core/template.ts), as validated. */
export type EncodingOptions = OptionsOf<{ type: 'object'; properties: ReturnType<typeof encodingSchema> }>;

/** Add to an output schema using encodingSchema (as `allOf: [ENCODING_RULES]`): format: template needs `template`. */
export const ENCODING_RULES = {
  if: { properties: { format: { const: 'template' } }, required: ['format'] },
  then: { required: ['template'] },
} as const satisfies OptionSchema;

/** Compiles the options once; throws when format is template and the template is missing or invalid. */
export function createEncoder(options: EncodingOptions): (event: Event) => string {
  switch (options.format) {
    case 'json':
      return (e) => JSON.stringify(e);
    case 'text':
      return (e) => (typeof e.message === 'string' ? e.message : JSON.stringify(e));
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
