// Reads a config file without surprises: a wrong `-c` (a device, a directory, a huge log file) is refused at once
// with what to do, instead of reading gigabytes (`-c /dev/urandom` once took 14 s and 1.16 GB before failing).
import { open } from 'node:fs/promises';

/** Largest config file accepted. Real pipeline configs are a few KiB; 1 MiB leaves room for generated ones. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export async function readConfigText(file: string): Promise<{ text: string } | { problem: string }> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    return { problem: `cannot read config file: ${(err as Error).message}` };
  }
  try {
    // fstat on the opened handle: what is read is what was checked.
    const stat = await handle.stat();
    if (!stat.isFile()) {
      return { problem: `cannot read config file: it is ${kindOf(stat)}, not a regular file; give -c the path of a YAML pipeline config (e.g. configs/default.yaml)` };
    }
    if (stat.size > MAX_CONFIG_BYTES) {
      return { problem: `config file is ${mib(stat.size)}, over the ${mib(MAX_CONFIG_BYTES)} limit for a pipeline config; is this the right file? (-c takes the YAML config, not a log)` };
    }
    // Read at most one byte past the limit: a file that grows after fstat is still refused, never read whole.
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > MAX_CONFIG_BYTES) {
      return { problem: `config file grew past the ${mib(MAX_CONFIG_BYTES)} limit for a pipeline config while being read; is this the right file?` };
    }
    return { text: buffer.subarray(0, length).toString('utf8') };
  } catch (err) {
    return { problem: `cannot read config file: ${(err as Error).message}` };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function kindOf(stat: { isDirectory(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isFIFO(): boolean; isSocket(): boolean }): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isFIFO()) return 'a pipe (FIFO)';
  if (stat.isSocket()) return 'a socket';
  return 'not a file';
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}
