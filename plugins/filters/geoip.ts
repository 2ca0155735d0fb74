// Where the client of each event is: country and continent from the packaged database, city and AS from
// user-supplied MaxMind DB files. The lookup itself is lib/insight's (shared with `visor analyze`).
import path from 'node:path';
import { definePlugin, type OptionSchema } from '../../core/index.js';
import { GeoLookup, NOT_AN_ADDRESS, PACKAGED_DATABASE_ATTRIBUTION, type GeoResult } from '../../lib/insight/index.js';

const database = (what: string) => ({ type: 'string', minLength: 1, file: true, description: what }) as const satisfies OptionSchema;

export default definePlugin({
  kind: 'filter',
  name: 'geoip',
  description: `Adds where the client is, offline: country (ISO 3166-1 alpha-2 such as DE; "private" for private, loopback, link-local and reserved addresses; null when the database has no entry) and continent (AF AN AS EU NA OC SA), from the database packaged with Visor; city, asn and as_org from the MaxMind DB files you give (GeoLite2 or DB-IP City and ASN). Nothing is downloaded. ${PACKAGED_DATABASE_ATTRIBUTION}.`,
  schema: {
    type: 'object',
    properties: {
      field: { type: 'string', minLength: 1, default: 'client_ip', description: 'Field holding the client address (IPv4 or IPv6; a host name or - gives nulls).' },
      country_database: database('A country (or city) .mmdb file to use instead of the packaged one (GeoLite2-Country, DB-IP Country Lite; relative to the config file).'),
      city_database: database('A city .mmdb file (GeoLite2-City, DB-IP City Lite) for the city field (relative to the config file); its licence may ask for attribution where the data shows.'),
      asn_database: database('An ASN .mmdb file (GeoLite2-ASN, DB-IP ASN Lite) for the asn and as_org fields (relative to the config file).'),
      cache_size: { type: 'integer', minimum: 0, default: 10000, description: 'Addresses whose answer is kept (0: none). A hit costs a Map lookup instead of a database walk; see the README for the measured figures.' },
    },
  },
  reads: (options) => [options.field],
  async create(options, context) {
    const resolve = (file: string | undefined) => (file === undefined ? undefined : path.resolve(context.configDir, file));
    const geo = await GeoLookup.open({ country: resolve(options.country_database), city: resolve(options.city_database), asn: resolve(options.asn_database) }, options.cache_size);
    // Only what is read downstream is assigned (absent, not null, otherwise); none of it read: no lookup at all.
    const wanted = (name: string) => context.downstreamFields === undefined || context.downstreamFields.has(name);
    const country = wanted('country');
    const continent = wanted('continent');
    const city = options.city_database !== undefined && wanted('city');
    const asn = options.asn_database !== undefined && wanted('asn');
    const asOrg = options.asn_database !== undefined && wanted('as_org');
    const any = country || continent || city || asn || asOrg;
    const hits = context.metrics.counter('geoip_cache_hits_total', 'Lookups answered from the address cache.');
    const misses = context.metrics.counter('geoip_cache_misses_total', 'Lookups that walked the databases (every lookup when cache_size is 0).');
    const notAddresses = context.metrics.counter('geoip_not_an_address_total', 'Values of the field that were no IP address (a host name, -, not a string): their fields are null.');
    const field = options.field;
    return {
      process(events) {
        if (!any) return events;
        const before = geo.cache ? geo.cache.hits : 0;
        const lookupsBefore = geo.cache ? geo.cache.misses : 0;
        let looked = 0;
        let notAddress = 0;
        for (let i = 0; i < events.length; i++) {
          const event = events[i];
          const value = event[field];
          let r: GeoResult = NOT_AN_ADDRESS;
          if (typeof value === 'string') {
            r = geo.lookup(value);
            looked++;
          }
          if (r === NOT_AN_ADDRESS) notAddress++;
          if (country) event.country = r.country;
          if (continent) event.continent = r.continent;
          if (city) event.city = r.city;
          if (asn) event.asn = r.asn;
          if (asOrg) event.as_org = r.as_org;
        }
        if (geo.cache) {
          hits.inc(geo.cache.hits - before);
          misses.inc(geo.cache.misses - lookupsBefore);
        } else misses.inc(looked);
        notAddresses.inc(notAddress);
        return events;
      },
    };
  },
});
