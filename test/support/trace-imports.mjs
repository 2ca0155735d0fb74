// Preloaded with --import: prints every module URL the process resolves, so a test can check which
// parts of Visor a command loaded.
import { register } from 'node:module';

register('data:text/javascript,' + encodeURIComponent(`
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  process.stderr.write('import ' + r.url + '\\n');
  return r;
}`));
