// Traffic insight (issue 18): enrichment of access-log events — where a client is (geoip), what a request asked
// for (request), unique visitors as GoAccess counts them. Used by the geoip and request filters and by the
// panels of report, the dashboard and `visor analyze`.
export { GeoLookup, NOT_AN_ADDRESS, packagedCountryDatabase, PACKAGED_DATABASE_ATTRIBUTION, PRIVATE_COUNTRY, type GeoDatabasePaths, type GeoResult } from './geoip.js';
export { continentOf, CONTINENT_CODES } from './continents.js';
export { parseAddress, mappedIPv4, formatIPv4, type ParsedAddress } from './ip-address.js';
export { specialPurpose } from './special-addresses.js';
export { RecentCache } from './lru.js';
export { decodePath, DEFAULT_STATIC_EXTENSIONS, fileType, GOACCESS_STATIC_EXTENSIONS, isStaticContentType, responseTimeMs, splitQuery } from './request.js';
export { countsAsVisit, UniqueVisitors, visitorDate, VisitorDates, visitorKey } from './visitors.js';
