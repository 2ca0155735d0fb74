// An external Visor plugin in one file: plain JavaScript, loaded by path from a config's
// `service.plugins`. It masks client addresses (GDPR-style): IPv4 keeps its first octets,
// IPv6 its first groups. No import is needed: a plugin is a plain object.

const IPV4 = /\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b/g;

/** @param {string} ip @param {number} keepOctets @param {number} keepGroups */
function mask(ip, keepOctets, keepGroups) {
  if (ip.includes(':')) {
    const groups = ip.replace(/^\[|\]$/g, '').split(':').filter((g, i, all) => g !== '' || i < all.length - 1);
    return groups.slice(0, keepGroups).join(':') + '::';
  }
  return ip.replace(IPV4, (...m) => m.slice(1, 5).map((o, i) => (i < keepOctets ? o : '0')).join('.'));
}

/** @type {import('visor').Plugin<'filter', { fields: string[], keep_octets: number, keep_groups: number }>} */
export default {
  kind: 'filter',
  name: 'anonymize_ip',
  description: 'Masks IP addresses in the given fields: IPv4 keeps keep_octets octets (1.2.3.4 -> 1.2.3.0), IPv6 keeps keep_groups groups.',
  schema: {
    type: 'object',
    properties: {
      fields: { type: 'array', items: { type: 'string' }, default: ['client_ip'], description: 'Fields holding an address.' },
      keep_octets: { type: 'integer', minimum: 0, maximum: 4, default: 3, description: 'IPv4 octets kept.' },
      keep_groups: { type: 'integer', minimum: 0, maximum: 8, default: 3, description: 'IPv6 groups kept (3 = a /48).' },
    },
  },
  create(options, context) {
    const masked = context.metrics.counter('anonymize_ip_masked_total', 'Addresses masked.');
    return {
      process(events) {
        let n = 0;
        for (const event of events) {
          for (const field of options.fields) {
            const value = event[field];
            if (typeof value === 'string' && value) {
              event[field] = mask(value, options.keep_octets, options.keep_groups);
              n++;
            }
          }
        }
        masked.inc(n);
        return events;
      },
    };
  },
};
