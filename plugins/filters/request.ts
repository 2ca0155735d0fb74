// What each request asked for: static or dynamic, file type, path split from the query, the path decoded,
// the response time in ms, and (optionally) the visitor it belongs to. The logic is lib/insight's.
import { definePlugin, parseTimeZone, timezoneSchema } from '../../core/index.js';
import {
  decodePath, DEFAULT_STATIC_EXTENSIONS, fileType, isStaticContentType, responseTimeMs, splitQuery, VisitorDates, visitorKey,
} from '../../lib/insight/index.js';

const DURATIONS = ['duration_us', 'duration_ms', 'duration_s'];

export default definePlugin({
  kind: 'filter',
  name: 'request',
  description: 'Classifies each request: is_static (by the extension, and by the content type when the format logs %{Content-Type}o), file_type (lowercased extension or null), path and query split when the field still holds both, path_decoded (decode: true), response_time_ms (from %D, %{ms}T or %T), and visitor (visitor: true: the key of a unique visitor as GoAccess counts them, date + client_ip + user_agent).',
  schema: {
    type: 'object',
    properties: {
      field: { type: 'string', minLength: 1, default: 'path', description: 'Field holding the path (apache_access gives path and query apart), or a URL path with its query (/a?b=1), which is then split into path and query (query kept when the event has one already).' },
      content_type_field: { type: 'string', minLength: 1, default: 'sent_http_content_type', description: 'Field holding the response content type (what %{Content-Type}o gives); when the event has it, a static type (image/*, font/*, audio/*, video/*, CSS, JavaScript, WebAssembly, PDF, zip, gzip) makes a request static too.' },
      static_extensions: {
        type: 'array', items: { type: 'string', pattern: '^[a-z0-9]+$' }, minItems: 1, uniqueItems: true,
        default: [...DEFAULT_STATIC_EXTENSIONS],
        description: 'Extensions of static files, lowercase without the dot (the default is GoAccess 1.7\'s static-file list with webp, avif, mjs, map, eot, otf, webm, wasm and avi).',
      },
      decode: { type: 'boolean', default: false, description: 'Add path_decoded, the path percent-decoded as UTF-8: invalid escapes (%zz, a lone %) stay as they are, bytes that are no UTF-8 become U+FFFD, %2F stays %2F (the path keeps its segments), + stays +.' },
      visitor: { type: 'boolean', default: false, description: 'Add visitor, the key GoAccess counts unique visitors by: the date of timestamp in timezone, client_ip and user_agent. Count its distinct values per day.' },
      timezone: timezoneSchema('local', 'Time zone of the visitor\'s date (the server\'s, to count as GoAccess does from the dates in the log)'),
    },
  },
  reads: (options) => [
    options.field, 'query', options.content_type_field, ...DURATIONS,
    ...(options.visitor ? ['timestamp', 'client_ip', 'user_agent'] : []),
  ],
  create(options, context) {
    const wanted = (name: string) => context.downstreamFields === undefined || context.downstreamFields.has(name);
    const staticSet = new Set(options.static_extensions);
    const { field, content_type_field: typeField } = options;
    const splitsAlways = field !== 'path';
    const wantStatic = wanted('is_static');
    const wantType = wanted('file_type');
    const wantDecoded = options.decode && wanted('path_decoded');
    const wantTime = wanted('response_time_ms');
    const wantVisitor = options.visitor && wanted('visitor');
    const dates = new VisitorDates(parseTimeZone(options.timezone));
    const staticCount = context.metrics.counter('request_static_total', 'Requests classified as static files.');
    return {
      process(events) {
        let statics = 0;
        for (let i = 0; i < events.length; i++) {
          const event = events[i];
          let path = event[field];
          if (typeof path === 'string') {
            const [p, q] = splitQuery(path);
            if (q !== null || splitsAlways) {
              path = p;
              event.path = p;
              if (event.query == null) event.query = q;
            }
          } else path = null;
          const ext = typeof path === 'string' ? fileType(path) : null;
          if (wantType) event.file_type = ext;
          if (wantStatic) {
            const type = event[typeField];
            const isStatic = (ext !== null && staticSet.has(ext)) || (typeof type === 'string' && isStaticContentType(type));
            event.is_static = isStatic;
            if (isStatic) statics++;
          }
          if (wantDecoded) event.path_decoded = typeof path === 'string' ? decodePath(path) : null;
          if (wantTime) event.response_time_ms = responseTimeMs(event);
          if (wantVisitor) {
            const ts = event.timestamp;
            event.visitor = typeof ts === 'number' && Number.isFinite(ts) ? visitorKey(dates.of(ts), event.client_ip, event.user_agent) : null;
          }
        }
        staticCount.inc(statics);
        return events;
      },
    };
  },
});
