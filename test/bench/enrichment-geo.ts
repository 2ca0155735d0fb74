// (geoip and request: h18-geo-request's enrichment bench, kept beside h18-ua-bot's enrichment.ts when both were merged.)
// The enrichment filters' cost per event (geoip with its cache hit ratio, request), each beside the apache_access
// parser's ns/event measured in the same run on the same lines: absolute figures on a shared 2-core machine are
// noisy, the ratios are what to compare. Best of 3 interleaved rounds per figure.
import type { Event, FilterInstance, Plugin } from '../../core/index.js';
import { MetricsHub } from '../../core/runtime/metrics.js';
import { GOACCESS_STATIC_EXTENSIONS } from '../../lib/insight/index.js';
import accessPlugin from '../../plugins/filters/apache_access.js';
import geoipPlugin from '../../plugins/filters/geoip.js';
import requestPlugin from '../../plugins/filters/request.js';
import { pluginContext } from '../support/corpora.js';
import { combinedLines, rng } from './apache-lines.js';

const BATCH = 1000;
const ctx = { emit: () => undefined };

function runFilter(filter: FilterInstance, events: Event[]): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < events.length; i += BATCH) filter.process(events.slice(i, i + BATCH), ctx);
  return Number(process.hrtime.bigint() - start) / events.length;
}

interface Case { label: string; plugin: Plugin; options: Record<string, unknown>; events: () => Event[]; hub: MetricsHub; filter?: FilterInstance; best: number }

export async function benchEnrichmentGeo(count = Number(process.env.BENCH_LINES ?? 500_000)): Promise<string[]> {
  const lines = combinedLines(count);
  const access = (await accessPlugin.create({ field: 'message', format: 'combined', timezone: 'UTC' }, pluginContext('access', 'apache_access'))) as FilterInstance;
  const parse = (): { ns: number; events: Event[] } => {
    const events: Event[] = lines.map((message) => ({ message }));
    const start = process.hrtime.bigint();
    for (let i = 0; i < events.length; i += BATCH) access.process(events.slice(i, i + BATCH), ctx);
    return { ns: Number(process.hrtime.bigint() - start) / count, events };
  };
  const { events: parsed } = parse(); // warm-up, and the events the filters get
  // The bench lines' IPv6 clients are documentation addresses (2001:db8::/32, "private" at once): moved to 2a02::/16
  // so that they are looked up like the IPv4 ones.
  for (const e of parsed) if (typeof e.client_ip === 'string') e.client_ip = e.client_ip.replace(/^2001:db8:/, '2a02:');
  // Worst case for the cache: every request from another address (a scan, a botnet), random over the IPv4 space.
  const r = rng(18);
  const distinct: Event[] = parsed.map((e) => ({ ...e, client_ip: [0, 0, 0, 0].map(() => Math.floor(r() * 256)).join('.') }));

  const cases: Case[] = [
    { label: 'geoip (cache 10000)', plugin: geoipPlugin as Plugin, options: { field: 'client_ip', cache_size: 10000 }, events: () => parsed },
    { label: 'geoip (no cache)', plugin: geoipPlugin as Plugin, options: { field: 'client_ip', cache_size: 0 }, events: () => parsed },
    { label: 'geoip (cache 10000), all addresses distinct', plugin: geoipPlugin as Plugin, options: { field: 'client_ip', cache_size: 10000 }, events: () => distinct },
    { label: 'geoip (no cache), all addresses distinct', plugin: geoipPlugin as Plugin, options: { field: 'client_ip', cache_size: 0 }, events: () => distinct },
    { label: 'request (defaults)', plugin: requestPlugin as Plugin, options: { field: 'path', content_type_field: 'sent_http_content_type', static_extensions: [...GOACCESS_STATIC_EXTENSIONS], decode: false, visitor: false, timezone: 'UTC' }, events: () => parsed },
    { label: 'request (decode + visitor)', plugin: requestPlugin as Plugin, options: { field: 'path', content_type_field: 'sent_http_content_type', static_extensions: [...GOACCESS_STATIC_EXTENSIONS], decode: true, visitor: true, timezone: 'UTC' }, events: () => parsed },
  ].map((c) => ({ ...c, hub: new MetricsHub(), best: Infinity }));
  for (const c of cases) c.filter = (await c.plugin.create(c.options, pluginContext('f', c.plugin.name, c.hub))) as FilterInstance;
  for (const c of cases) runFilter(c.filter!, c.events()); // warm-up (and the caches' first fill)

  let parseBest = Infinity;
  for (let round = 0; round < 3; round++) {
    parseBest = Math.min(parseBest, parse().ns);
    for (const c of cases) c.best = Math.min(c.best, runFilter(c.filter!, c.events()));
  }
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const out = [
    `enrichment filters on ${fmt(count)} generated combined lines (5,000 Zipf-skewed clients), in memory, batches of ${BATCH}, best of 3:`,
    `  apache_access parse (13 fields)                   ${fmt(parseBest).padStart(6)} ns/event (baseline)`,
  ];
  for (const c of cases) {
    const custom = c.hub.snapshot().f?.custom ?? {};
    const hits = custom.visor_geoip_cache_hits_total ?? 0;
    const misses = custom.visor_geoip_cache_misses_total ?? 0;
    const ratio = c.plugin.name === 'geoip' && c.options.cache_size ? `, cache hit ratio ${((hits / (hits + misses)) * 100).toFixed(1)}%` : '';
    out.push(`  ${c.label.padEnd(48)}  ${fmt(c.best).padStart(6)} ns/event (${(c.best / parseBest * 100).toFixed(0)}% of the parse${ratio})`);
  }
  return out;
}

if (process.argv[1]?.endsWith('enrichment-geo.js') || process.argv[1]?.endsWith('enrichment-geo.ts')) {
  benchEnrichmentGeo().then((l) => console.log(l.join('\n')));
}
