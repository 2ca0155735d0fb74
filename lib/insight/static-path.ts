// Whether a request path names a static asset (a style sheet, script, image, font, media file) by its
// extension: what a browser fetches beside the pages it shows. The bot filter's behaviour rule counts these.
const STATIC_EXTENSIONS = new Set([
  'css', 'js', 'mjs', 'map', 'png', 'jpg', 'jpeg', 'gif', 'webp', 'avif', 'svg', 'ico', 'bmp', 'tif', 'tiff',
  'woff', 'woff2', 'ttf', 'otf', 'eot', 'mp4', 'webm', 'ogg', 'mp3', 'wav', 'm4a', 'json', 'wasm', 'webmanifest',
]);

/** The extension of the path's last segment, lower-cased (without a query), or '' when it has none. */
export function pathExtension(path: string): string {
  let end = path.length;
  const q = path.indexOf('?');
  if (q >= 0) end = q;
  const slash = path.lastIndexOf('/', end - 1);
  const dot = path.lastIndexOf('.', end - 1);
  return dot > slash && dot < end - 1 ? path.slice(dot + 1, end).toLowerCase() : '';
}

export function isStaticPath(path: string): boolean {
  return STATIC_EXTENSIONS.has(pathExtension(path));
}
