// Offline IP geolocation: country (and its continent) from the CC0/CC BY country database packaged with Visor
// (@ip-location-db/geo-whois-asn-country-mmdb), city and autonomous system from user-supplied MaxMind DB files
// (GeoLite2 or DB-IP layouts), read with the `maxmind` reader. Nothing is downloaded: the files are read once.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Reader, Response } from 'maxmind';
import { continentOf } from './continents.js';
import { formatIPv4, mappedIPv4, parseAddress } from './ip-address.js';
import { RecentCache } from './lru.js';
import { specialPurpose } from './special-addresses.js';

/** The packaged country database (IPv4 and IPv6 in one file). Resolved when asked for, so that importing this
 * library (for its visitor or request functions) never depends on the package being installed. */
export function packagedCountryDatabase(): string {
  return createRequire(import.meta.url).resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb');
}

/** What the packaged database's data licence asks to be shown wherever its data is (its NRO_LICENSE file). */
export const PACKAGED_DATABASE_ATTRIBUTION = 'Country data: ip-location-db geo-whois-asn-country (sapics), from the RIRs\' WHOIS data by the NRO (nro.net), CC BY 4.0';

/** The country `private`: an address in a private, shared, loopback, link-local, documentation or reserved block. */
export const PRIVATE_COUNTRY = 'private';

export interface GeoResult {
  /** ISO 3166-1 alpha-2 (`DE`), `private`, or null when the database has no entry (or the value is no address). */
  country: string | null;
  /** AF AN AS EU NA OC SA, from the country; null with it, and for `private`. */
  continent: string | null;
  /** With a city database: the city's English name (another of its names when it has no English one). */
  city: string | null;
  /** With an ASN database. */
  asn: number | null;
  as_org: string | null;
}

export interface GeoDatabasePaths {
  /** Default: the packaged one. */
  country?: string;
  city?: string;
  asn?: string;
}

/** The result for a value that is no IP address (a host name logged with HostnameLookups On, `-`). */
export const NOT_AN_ADDRESS: GeoResult = Object.freeze({ country: null, continent: null, city: null, asn: null, as_org: null });
const PRIVATE: GeoResult = Object.freeze({ country: PRIVATE_COUNTRY, continent: null, city: null, asn: null, as_org: null });

interface CountryRecord { country_code?: string; country?: { iso_code?: string }; registered_country?: { iso_code?: string } }
interface CityRecord { city?: { names?: Record<string, string> } }
interface AsnRecord { autonomous_system_number?: number; autonomous_system_organization?: string }

export class GeoLookup {
  /** The address cache (null when cache_size is 0): its hits and misses. */
  readonly cache: RecentCache<string, GeoResult> | null;

  private constructor(
    private readonly country: Reader<Response>,
    private readonly city: Reader<Response> | null,
    private readonly asn: Reader<Response> | null,
    cacheSize: number,
  ) {
    this.cache = cacheSize > 0 ? new RecentCache(cacheSize) : null;
  }

  /** Opens the databases (the packaged country one unless `paths.country` names another). Rejects with an error
   * naming the file when one cannot be read or is no MaxMind DB file. */
  static async open(paths: GeoDatabasePaths = {}, cacheSize = 0): Promise<GeoLookup> {
    const [country, city, asn] = await Promise.all([
      openDatabase(paths.country ?? packagedCountryDatabase()),
      paths.city ? openDatabase(paths.city) : null,
      paths.asn ? openDatabase(paths.asn) : null,
    ]);
    return new GeoLookup(country, city, asn, cacheSize);
  }

  /** Where the address is; a value that is no address gives NOT_AN_ADDRESS (all nulls). The result is shared: do not change it. */
  lookup(address: string): GeoResult {
    const cache = this.cache;
    if (cache === null) return this.resolve(address);
    let result = cache.lookup(address);
    if (result === undefined) {
      result = this.resolve(address);
      cache.set(address, result); // RecentCache keeps a copy of the key, not a view of the line's read chunk
    }
    return result;
  }

  private readonly resolve = (text: string): GeoResult => {
    const parsed = parseAddress(text);
    if (parsed === null) return NOT_AN_ADDRESS;
    const v4 = mappedIPv4(parsed);
    const address = v4 === null ? parsed : { v4 };
    if (specialPurpose(address) !== null) return PRIVATE;
    const key = v4 === null ? text : formatIPv4(v4);
    const country = countryCode(get<CountryRecord>(this.country, key));
    const cityRecord = this.city ? get<CityRecord>(this.city, key) : null;
    const asnRecord = this.asn ? get<AsnRecord>(this.asn, key) : null;
    return {
      country,
      continent: country === null ? null : continentOf(country),
      city: cityName(cityRecord),
      asn: asnRecord?.autonomous_system_number ?? null,
      as_org: asnRecord?.autonomous_system_organization ?? null,
    };
  };
}

/** Decoded records kept per database (each a small object). */
const DECODED_RECORDS = 4096;

async function openDatabase(file: string): Promise<Reader<Response>> {
  const { Reader } = await import('maxmind');
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    throw new Error(`cannot read the database ${file}: ${(err as Error).message}`);
  }
  // The reader decodes the record an address points to on every lookup unless given a cache of decoded records by
  // offset (measured: lookups of 200k random addresses took 0.86x as long with it, same process, best of 5); the
  // packaged country database has a few hundred records in all, a city one millions, hence bounded.
  const decoded = new RecentCache<number, unknown>(DECODED_RECORDS);
  try {
    return new Reader<Response>(data, { cache: { get: (k: number) => decoded.lookup(k), set: (k: number, v: unknown) => decoded.set(k, v) } });
  } catch (err) {
    throw new Error(`${file} is not a MaxMind DB (.mmdb) file: ${(err as Error).message}`);
  }
}

function get<T>(reader: Reader<Response>, address: string): T | null {
  try {
    return reader.get(address) as T | null;
  } catch {
    return null; // an IPv6 address in an IPv4-only database
  }
}

function countryCode(record: CountryRecord | null): string | null {
  if (record === null) return null;
  const code = record.country_code ?? record.country?.iso_code ?? record.registered_country?.iso_code;
  return typeof code === 'string' && code !== '' ? code.toUpperCase() : null;
}

function cityName(record: CityRecord | null): string | null {
  const names = record?.city?.names;
  if (!names) return null;
  return names.en ?? Object.values(names)[0] ?? null;
}
