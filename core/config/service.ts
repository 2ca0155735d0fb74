// The `service:` section: agent-wide settings, with defaults and paths resolved against the config file's directory.
import { hostname } from 'node:os';
import path from 'node:path';
import type { Node } from 'yaml';
import type { JsonSchema } from '../api.js';
import { allowedHostsSchema, exposedWithoutToken } from '../runtime/endpoint.js';
import { tlsListenerSchema } from '../tls.js';
import { ajvDiagnostics } from './ajv-errors.js';
import type { Diagnostic, ServiceConfig } from './model.js';
import { compileOwnSchema, validateCollectingSecrets } from './schema.js';
import type { SourceMap } from './source.js';

/** Why a `name` is refused (it goes into mail subjects), or undefined. */
function oneLineName(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  return v.trim() && !/[\r\n]/.test(v) && v.length <= 100 ? undefined : 'must be one non-empty line of at most 100 characters, e.g. web01';
}

/** Why a `public_url` is refused, or undefined. */
function httpUrl(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined; // the type keyword reports it
  return /^https?:\/\/[^\s/?#]+[^\s]*$/.test(v) ? undefined : 'must be an http:// or https:// address, e.g. https://visor.example.com/';
}

// `threads` defaults to 1, not to the cores available: on 2 cores more threads made P1 (tail -> apache_access ->
// window, 1M lines) slower, first with only the parser in a worker (0.19x the reference scanner against 0.32x with
// 1), then with the window's partials built there too (callgrind, 100k lines: 47k instructions a line over all
// threads against 31k on one: copying the lines there and the partials back, a second heap's GC; see README).
// Measured in the same runs; see the README's performance section.
export const SERVICE_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    data_dir: { type: 'string', default: './data', description: 'Where components keep state (checkpoints, buffers).' },
    name: { type: 'string', check: oneLineName, description: 'This agent\'s name in alert and report mails (subject and body); default: the host name.' },
    public_url: { type: 'string', check: httpUrl, description: 'The dashboard\'s address as people reach it (e.g. https://visor.example.com/): alert and report mails link to it.' },
    log_level: { type: 'string', enum: ['debug', 'info', 'warn', 'error'], default: 'info' },
    log_format: { type: 'string', enum: ['text', 'json'], default: 'text' },
    grace: { duration: true, default: '5s', description: 'How long to wait for the pipeline to drain on shutdown.' },
    threads: { type: 'integer', minimum: 1, default: 1, description: 'Threads the pipeline may use, the main one included: filters whose plugin allows it (the parsers) run in threads - 1 worker threads, their results delivered in order; a window fed only by such a filter has its partials built there too. 1 (the default) runs everything on the main thread.' },
    http: {
      type: 'object',
      additionalProperties: false,
      // The same rule as the dashboard's: /metrics and /health beyond loopback need a token (located at listen).
      check: (value: unknown) => {
        const o = (value ?? {}) as { listen?: unknown; token?: unknown };
        if (typeof o.listen !== 'string') return undefined;
        const message = exposedWithoutToken('/metrics and /health', o.listen, 2020, typeof o.token === 'string' ? o.token : undefined, 'service.http.token (e.g. token: "${VISOR_HTTP_TOKEN}")');
        return message && { at: 'listen', message };
      },
      properties: {
        listen: { type: 'string', default: '127.0.0.1:2020', description: 'Address of /metrics and /health: [host:]port (a non-loopback address needs a token).' },
        token: { type: 'string', secret: true, description: 'Access token, usually ${VISOR_HTTP_TOKEN}: required on every request as "Authorization: Bearer TOKEN" or ?token=TOKEN (Prometheus: authorization.credentials). Required to listen beyond loopback; empty means none.' },
        tls: tlsListenerSchema(),
        allowed_hosts: allowedHostsSchema(),
      },
    },
    plugins: { type: 'array', items: { type: 'string' }, default: [], description: 'External plugin modules to load.' },
  },
};

export interface ServiceResult {
  /** Undefined when the section has errors. */
  service?: ServiceConfig;
  /** The plugin specifiers that can be loaded, even when other settings are wrong (so components still get checked). */
  plugins: string[];
  diagnostics: Diagnostic[];
  /** Values of `secret: true` keys (service.http.token), masked wherever the agent prints. */
  secrets: string[];
}

/** Validate the `service:` value (`keyNode` is its key; both absent when the section is omitted). */
export function resolveService(keyNode: Node | undefined, valueNode: Node | undefined, data: unknown, source: SourceMap, dir: string): ServiceResult {
  // An omitted section, or `service:` with nothing after it, means all defaults.
  if (data === undefined || data === null) data = {};
  else if (typeof data !== 'object' || Array.isArray(data)) {
    const keys = Object.keys((SERVICE_SCHEMA.properties as object | undefined) ?? {}).join(', ');
    return { plugins: [], secrets: [], diagnostics: [source.diagnostic(valueNode ?? keyNode, 'error', `service must be a map of settings (${keys})`)] };
  }
  const settings = data as Record<string, unknown>;
  // `http:` written with nothing after it means "enable with defaults", like `http: {}`.
  if ('http' in settings && settings.http === null) settings.http = {};

  const outcome = validateCollectingSecrets(compileOwnSchema(SERVICE_SCHEMA, settings), settings, dir);
  const diagnostics = ajvDiagnostics(outcome.errors, {
    source, node: valueNode, keyNode, data: settings, schema: SERVICE_SCHEMA, label: 'service', noun: 'key', secrets: outcome.secrets,
    unknownKey: (name) => `unknown key "${name}" in service`,
    missingKey: (name) => `missing required key "${name}" in service`,
  });
  const plugins = Array.isArray(settings.plugins) ? settings.plugins.filter((p): p is string => typeof p === 'string') : [];
  const secrets = outcome.secrets.filter((v) => v !== '');
  if (!outcome.valid) return { plugins, diagnostics, secrets };
  const valid = settings as unknown as ServiceConfig;
  return { service: { ...valid, name: valid.name ?? hostname(), data_dir: path.resolve(dir, valid.data_dir) }, plugins, diagnostics, secrets };
}
