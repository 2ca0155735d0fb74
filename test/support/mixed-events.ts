// A seeded mix of what a report or summary aggregate reads: access events (statuses of every class, 101 among
// them, bytes sometimes missing), error-log lines, heartbeats and unparsed lines, the last three with client
// addresses that must never count as traffic.
import type { Event } from '../../core/index.js';
import { rng } from '../bench/apache-lines.js';

/** `n` events drawn from `seed`: 5% heartbeats, 10% error-log lines, 2% unparsed lines, the rest access events
 * from 20 clients (10.0.0.0-19, skewed) over 5 paths. */
export function mixedEvents(seed: number, n: number): Event[] {
  const rand = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const events: Event[] = [];
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.05) events.push({ heartbeat: true, status: 500, client_ip: '9.9.9.9' });
    else if (r < 0.15) events.push({ level: pick(['error', 'warn', 'notice']), message_text: pick(['File does not exist: /x', 'AH01630: client denied', 'timeout']), client_ip: '7.7.7.7' });
    else if (r < 0.17) events.push({ message: 'unparsed line', client_ip: '8.8.8.8' });
    else {
      events.push({
        status: pick([200, 200, 200, 204, 301, 304, 404, 403, 500, 503, 101]),
        client_ip: `10.0.0.${Math.floor(rand() * rand() * 20)}`,
        path: pick(['/', '/a', '/b', '/c', '/d']),
        bytes: rand() < 0.1 ? null : Math.floor(rand() * 5000),
      });
    }
  }
  return events;
}
