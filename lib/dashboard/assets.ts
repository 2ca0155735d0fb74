// The page's files (its own script and CSS in page/, uPlot from node_modules) and the two HTML documents built
// from them: the live page (assets by URL, served by the dashboard output) and the self-contained static report.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DashboardState } from './model.js';

export interface Asset {
  body: Buffer;
  contentType: string;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** page/ next to this module; compiled to dist/, the module finds the sources' page/ (tsc copies no .js/.css). */
function pageDir(): string {
  const candidates = [path.join(HERE, 'page')];
  const dist = HERE.split(path.sep).lastIndexOf('dist');
  if (dist >= 0) {
    const parts = HERE.split(path.sep);
    candidates.push(path.join(parts.slice(0, dist).join(path.sep) || path.sep, ...parts.slice(dist + 1), 'page'));
  }
  const found = candidates.find((d) => existsSync(path.join(d, 'app.js')));
  if (!found) throw new Error(`dashboard page files not found (looked in ${candidates.join(', ')})`);
  return found;
}

function uplotDir(): string {
  const require = createRequire(import.meta.url);
  // uplot's main entry is dist/uPlot.cjs.js: its directory holds the browser build and the CSS.
  return path.dirname(require.resolve('uplot'));
}

/** The page's scripts in load order (app.js uses error-log.js; panels.js and attacks.js hook into app.js), served
 * by the live page and inlined by the static report. */
const PAGE_SCRIPTS = ['uPlot.iife.min.js', 'error-log.js', 'app.js', 'panels.js', 'attacks.js'];

const FILES: Record<string, { dir: () => string; file: string; contentType: string }> = {
  'app.js': { dir: pageDir, file: 'app.js', contentType: 'text/javascript; charset=utf-8' },
  'app.css': { dir: pageDir, file: 'app.css', contentType: 'text/css; charset=utf-8' },
  'error-log.js': { dir: pageDir, file: 'error-log.js', contentType: 'text/javascript; charset=utf-8' },
  'panels.js': { dir: pageDir, file: 'panels.js', contentType: 'text/javascript; charset=utf-8' },
  'attacks.js': { dir: pageDir, file: 'attacks.js', contentType: 'text/javascript; charset=utf-8' },
  'panels.css': { dir: pageDir, file: 'panels.css', contentType: 'text/css; charset=utf-8' },
  'uPlot.iife.min.js': { dir: uplotDir, file: 'uPlot.iife.min.js', contentType: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { dir: uplotDir, file: 'uPlot.min.css', contentType: 'text/css; charset=utf-8' },
};

const cache = new Map<string, Asset>();

/** An asset by its name under /assets/, or undefined. Read once, then kept (a few tens of KiB). */
export function asset(name: string): Asset | undefined {
  const def = Object.prototype.hasOwnProperty.call(FILES, name) ? FILES[name] : undefined;
  if (!def) return undefined;
  let a = cache.get(name);
  if (!a) {
    a = { body: readFileSync(path.join(def.dir(), def.file)), contentType: def.contentType };
    cache.set(name, a);
  }
  return a;
}

/** JSON that is safe inside a <script> element (no `</script>`, no HTML comment openers, no line separators). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const ICON = '<link rel="icon" href="data:,">';

/** The live page. `query` (e.g. `?token=...`) is appended to every URL the page loads, so a token given in the
 * page URL reaches the assets, the event stream and the history API too. */
export function liveHtml(title: string, query: string, history = false): string {
  const q = escapeAttr(query);
  // With a store, the page also reads GET api/history (time ranges and filters).
  const config = { mode: 'live', events: `events${query}`, ...(history ? { history: `api/history${query}` } : {}) };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeAttr(title)}</title>
${ICON}
<link rel="stylesheet" href="assets/uPlot.min.css${q}">
<link rel="stylesheet" href="assets/app.css${q}">
<link rel="stylesheet" href="assets/panels.css${q}">
<script type="application/json" id="visor-config">${scriptJson(config)}</script>
</head>
<body>
<div id="app"></div>
${PAGE_SCRIPTS.map((f) => `<script src="assets/${f}${q}"></script>\n`).join('')}</body>
</html>
`;
}

/** One self-contained HTML file (CSS, uPlot and the page script inlined, the state embedded as JSON) that renders
 * the same charts and tables as the live page, with no server and nothing loaded from the network. */
export function renderStaticHtml(state: DashboardState): string {
  const text = (name: string) => asset(name)!.body.toString('utf8');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeAttr(state.title)} · report</title>
${ICON}
<style>
${text('uPlot.min.css').replace(/<\/(style)/gi, '<\\/$1')}
${text('app.css').replace(/<\/(style)/gi, '<\\/$1')}
${text('panels.css').replace(/<\/(style)/gi, '<\\/$1')}
</style>
<script type="application/json" id="visor-config">${scriptJson({ mode: 'static' })}</script>
<script type="application/json" id="visor-state">${scriptJson(state)}</script>
</head>
<body>
<div id="app"></div>
${PAGE_SCRIPTS.map((f) => `<script>\n${inlineScript(text(f))}\n</script>\n`).join('')}</body>
</html>
`;
}
