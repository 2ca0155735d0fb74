// The tail input's options: the schema the loader validates them with, and their type derived from it.
import { positiveDuration, type OptionSchema, type OptionsOf } from '../../../core/index.js';

export const TAIL_SCHEMA = {
  type: 'object',
  required: ['path'],
  properties: {
    path: {
      anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 }],
      description: 'File path or glob (or a list), e.g. /var/log/apache2/*access.log. Relative paths are relative to the config file.',
    },
    exclude: { type: 'array', items: { type: 'string' }, default: [], description: 'Globs of files not to follow: a pattern without / matches file names (*.gz), one with / matches paths.' },
    read_from: { enum: ['end', 'beginning'], default: 'end', description: 'Where to start in a file found at startup with no checkpoint. Files that appear later are read from their beginning.' },
    max_line_bytes: { size: true, default: '64KiB', description: 'Longest line; longer lines are cut or skipped, and counted.' },
    long_lines: { enum: ['truncate', 'skip'], default: 'truncate', description: 'What to do with a line longer than max_line_bytes.' },
    rotate_wait: { duration: true, default: '5s', description: 'How long a file rotated away or deleted is still read after it stops growing.' },
    poll_interval: { duration: true, default: '250ms', check: positiveDuration('poll_interval: 250ms'), description: 'Safety-net check of every file for growth, truncation and rotation (file events make reading prompt).' },
    glob_interval: { duration: true, default: '1s', check: positiveDuration('glob_interval: 1s'), description: 'How often the globs are expanded again for new files.' },
    exit_on_eof: { type: 'boolean', default: false, description: 'Read every matched file to its end (including a last line without newline), deliver, checkpoint, and end the pipeline.' },
    encoding: { enum: ['utf8', 'latin1'], default: 'utf8', description: 'Text encoding; invalid UTF-8 bytes become U+FFFD and are counted.' },
    path_field: { type: 'string', default: 'file', description: 'Field that receives the file path; empty for none.' },
    position_field: { type: 'string', default: '', description: 'Field that receives the line\'s position { file, offset }: the identity of the file\'s content (a hash of its first line, the same under every name, inode or copy logrotate gives it) and the byte offset where the line starts. The pair identifies a line exactly (the store output keys events by it, so a line read again after a crash is not stored twice). Empty (the default): none.' },
    max_open_files: { type: 'integer', minimum: 1, default: 512, description: 'Most files kept open; idle ones beyond it are closed and reopened when they grow.' },
    checkpoint_interval: { duration: true, default: '50ms', description: 'Acknowledged positions are written to disk after acknowledgements, at most this often (and at shutdown): after a crash, about this much delivered data is read again.' },
    batch_size: { type: 'integer', minimum: 1, default: 1000, description: 'Most lines per batch.' },
    read_buffer: { size: true, default: '256KiB', description: 'Bytes read at a time (at least max_line_bytes + 1).' },
  },
} as const satisfies OptionSchema;

export type TailOptions = OptionsOf<typeof TAIL_SCHEMA>;
