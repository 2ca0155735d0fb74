// Deterministic, realistic combined-format lines for parser benchmarks: Zipf-skewed clients (a share of
// them IPv6), real user agents, query strings, '-' bytes for 304s. Not the traffic generator (issue 5).

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  'curl/8.4.0',
  'python-requests/2.31.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 Edg/119.0.2151.97',
];
const PATHS = ['/', '/index.html', '/about', '/blog/2023/11/25/visor-release', '/static/css/site.min.css', '/static/js/app.3f9a1c.js',
  '/images/logo.png', '/api/v1/orders', '/api/v1/users/42', '/search', '/products/7731/reviews', '/wp-login.php', '/favicon.ico', '/robots.txt'];
const QUERIES = ['', '', '', '?q=apache+logs&page=2', '?utm_source=newsletter&utm_medium=email', '?id=1234', '?sort=desc&limit=50'];
const REFERERS = ['-', 'https://www.google.com/search?q=apache+access+log+analysis', 'https://example.com/blog/2023/11/monitoring-apache/',
  'https://news.ycombinator.com/item?id=38412003', 'https://www.bing.com/search?q=visor+log+agent&form=QBLH'];
const METHODS = ['GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'POST', 'HEAD', 'PUT', 'DELETE'];
const STATUSES = [200, 200, 200, 200, 200, 200, 200, 304, 301, 404, 500, 503];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** mulberry32: small, fast, seeded. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function combinedLines(count: number, seed = 42): string[] {
  const r = rng(seed);
  const pick = <T>(a: T[]) => a[Math.floor(r() * a.length)];
  const clients: string[] = [];
  for (let i = 0; i < 5000; i++) {
    clients.push(i % 10 === 9
      ? `2001:db8:${(i * 7919).toString(16)}::${(i % 251).toString(16)}`
      : `${1 + (i * 37) % 223}.${(i * 11) % 256}.${(i * 101) % 256}.${1 + (i % 254)}`);
  }
  const lines: string[] = new Array(count);
  let t = Date.UTC(2026, 10, 25, 0, 0, 0);
  for (let i = 0; i < count; i++) {
    if (r() < 0.3) t += 1000;
    const d = new Date(t);
    const ts = `${String(d.getUTCDate()).padStart(2, '0')}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}:${String(d.getUTCSeconds()).padStart(2, '0')} +0000`;
    const client = clients[Math.floor(5000 * Math.pow(r(), 3))]; // skewed: a few clients dominate
    const status = pick(STATUSES);
    const method = pick(METHODS);
    const bytes = status === 304 || method === 'HEAD' ? '-' : String(Math.floor(200 + r() * 50000));
    lines[i] = `${client} - ${r() < 0.05 ? 'alice' : '-'} [${ts}] "${method} ${pick(PATHS)}${pick(QUERIES)} HTTP/1.1" ${status} ${bytes} "${pick(REFERERS)}" "${pick(USER_AGENTS)}"`;
  }
  return lines;
}
