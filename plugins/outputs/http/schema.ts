// Options of the `http` output. Every check is here, so that `visor validate` locates a bad one at FILE:LINE:COL.
import { checkByParsing, compileTemplate, templateSchema, tlsClientSchema, type OptionSchema } from '../../../core/index.js';
import { compileJsonTemplate } from './json-template.js';

export const FORMATS = ['json', 'ndjson', 'json_array', 'template'] as const;

/** The url template: it must compile and start with http:// or https:// (the host may come from a field). */
function checkUrl(value: unknown): string | undefined {
  const text = String(value);
  try {
    compileTemplate(text, { strftime: false });
  } catch (err) {
    return (err as Error).message;
  }
  return /^https?:\/\/[^/{}\s]/i.test(text) ? undefined : 'must be an http:// or https:// URL, e.g. https://hooks.example.com/visor';
}

/** Header names: HTTP tokens (RFC 9110). */
const HEADER_NAME = '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$';

const headerTemplate = templateSchema('Header value template ({{ field }} inserts a field).', { strftime: false });

/** tls with a plain http:// URL would be silently unused. */
function checkTlsScheme(o: unknown) {
  const { url, tls } = (o ?? {}) as { url?: unknown; tls?: unknown };
  return tls !== undefined && typeof url === 'string' && /^http:\/\//i.test(url)
    ? { at: 'tls', message: 'tls applies to https:// URLs only: use https:// in url, or remove tls' }
    : undefined;
}

export const httpSchema = {
  type: 'object',
  required: ['url'],
  allOf: [
    { if: { properties: { format: { const: 'template' } }, required: ['format'] }, then: { required: ['template'] } },
  ],
  check: (o: unknown) => [checkTlsScheme(o), checkBodyTemplate(o)].filter((p) => p !== undefined),
  properties: {
    url: { type: 'string', minLength: 1, check: checkUrl, description: 'Where to send: an http:// or https:// URL, or a template of one (https://logs.example.com/{{ vhost }}). Events whose URL renders differently go in separate requests. Only its scheme, host and port are ever logged: a webhook URL\'s path is often its secret.' },
    method: { enum: ['POST', 'PUT', 'PATCH'], default: 'POST', description: 'Request method.' },
    headers: {
      type: 'object', default: {}, propertyNames: { pattern: HEADER_NAME }, additionalProperties: headerTemplate,
      description: 'Request headers: name -> template, e.g. { X-Vhost: "{{ vhost }}" }. Events whose headers render differently go in separate requests. Content-Type defaults to the format\'s (application/json, application/x-ndjson).',
    },
    secret_headers: {
      type: 'object', default: {}, propertyNames: { pattern: HEADER_NAME }, additionalProperties: { ...headerTemplate, secret: true },
      description: 'Headers whose values are secrets (Authorization: "Bearer ${TOKEN}"), templates as in headers: masked wherever Visor prints (at least 8 characters), and never logged.',
    },
    format: {
      enum: FORMATS, default: 'ndjson',
      description: 'json: one request per event, its JSON object as the body; ndjson: one request per batch, one JSON object per line; json_array: one request per batch, a JSON array; template: one request per event, the `template` rendered as the body (a webhook payload).',
    },
    template: {
      type: 'string', minLength: 1,
      description: 'With format: template (required then), the body: {{ field }} inserts a field. With escape: json it must be JSON, e.g. {"text": "{{ severity }} {{ name }}: {{ message }}"}: a placeholder inside a JSON string is escaped as string content, one outside gives the field as a JSON value (null when missing).',
    },
    escape: { enum: ['json', 'none'], default: 'json', description: 'With format: template: json keeps the body valid JSON whatever the fields hold (and the template is checked to be JSON); none inserts the fields as they are.' },
    content_type: { type: 'string', minLength: 1, description: 'Content-Type of the body (default: application/json, application/x-ndjson for ndjson, text/plain for template with escape: none); a Content-Type in headers wins.' },
    batch: {
      type: 'object', additionalProperties: false, default: {},
      description: 'How many events go in one request (ndjson, json_array) or one write (json, template): the core merges queued batches up to max_events, waiting at most timeout for more.',
      properties: {
        max_events: { type: 'integer', minimum: 1, default: 1000, description: 'Most events per request.' },
        timeout: { duration: true, default: '1s', description: 'How long to wait for more events to fill a request.' },
      },
    },
    compression: { enum: ['none', 'gzip'], default: 'none', description: 'gzip: the body is sent gzip-compressed (Content-Encoding: gzip).' },
    timeout: { duration: true, default: '30s', description: 'Give up a request (connecting, sending, and the response) after this long; it is retried.' },
    max_retry_after: { duration: true, default: '5m', description: 'Longest wait a Retry-After header (on 429 and 503) may impose before the next attempt.' },
    max_sockets: { type: 'integer', minimum: 1, default: 4, description: 'Most connections open to one host (kept alive between requests).' },
    tls: tlsClientSchema(),
  },
} as const satisfies OptionSchema;

/** The body template of these options, compiled (throws on an invalid one; the schema's check runs it first). */
export function bodyTemplate(source: string, escape: 'json' | 'none') {
  if (escape === 'json') return compileJsonTemplate(source);
  const t = compileTemplate(source, { strftime: false });
  return { render: (e: Record<string, unknown>) => t.render(e) };
}

/** The template option's check: it depends on `escape`, so it runs on the whole object. */
function checkBodyTemplate(o: unknown) {
  const { format, template, escape } = (o ?? {}) as { format?: unknown; template?: unknown; escape?: unknown };
  if (format !== 'template' || typeof template !== 'string') return undefined;
  const problem = checkByParsing((t) => bodyTemplate(String(t), escape === 'none' ? 'none' : 'json'))(template);
  return typeof problem === 'string' ? { at: 'template', message: problem } : undefined;
}
