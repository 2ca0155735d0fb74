// Option types are derived from the schemas (issue 15): what a plugin's `create` is typed to receive is what the
// loader delivers after validation. The type assertions are checked by `npx tsc` (a failing one does not compile);
// the test checks the same schema at run time through the loader's validator.
import assert from 'node:assert/strict';
import { definePlugin, type OptionSchema, type OptionsOf, type Plugin, type TlsClientOptions } from '../core/index.js';
import { optionsValidator } from '../core/config/schema.js';
import alert from '../plugins/aggregates/alert/index.js';
import window from '../plugins/aggregates/window/index.js';
import window_merge from '../plugins/aggregates/window_merge/index.js';
import report from '../plugins/aggregates/report/index.js';
import summary from '../plugins/aggregates/summary.js';
import apache_access from '../plugins/filters/apache_access.js';
import apache_error from '../plugins/filters/apache_error.js';
import modify from '../plugins/filters/modify.js';
import where from '../plugins/filters/where.js';
import generator from '../plugins/inputs/generator/index.js';
import kafkaInput from '../plugins/inputs/kafka/index.js';
import stdin from '../plugins/inputs/stdin.js';
import tail from '../plugins/inputs/tail/index.js';
import tcpInput from '../plugins/inputs/tcp.js';
import blackhole from '../plugins/outputs/blackhole.js';
import dashboard from '../plugins/outputs/dashboard/index.js';
import email from '../plugins/outputs/email/index.js';
import file from '../plugins/outputs/file.js';
import kafkaOutput from '../plugins/outputs/kafka/index.js';
import stdout from '../plugins/outputs/stdout.js';
import tcpOutput from '../plugins/outputs/tcp.js';

type OptionsOfPlugin<P> = P extends Plugin<infer _K, infer O> ? O : never;
/** `any`, or `unknown`: options that are not typed. */
type Untyped<T> = 0 extends 1 & T ? true : unknown extends T ? true : false;
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
type Expect<T extends true> = T;

/** A plugin whose options came out untyped (its schema no longer inferred) fails here. */
type Typed<P extends readonly unknown[]> = { [I in keyof P]: Untyped<OptionsOfPlugin<P[I]>> extends true ? false : true };
const built = [
  alert, window, window_merge, report, summary, apache_access, apache_error, modify, where, generator, kafkaInput, stdin, tail,
  tcpInput, blackhole, dashboard, email, file, kafkaOutput, stdout, tcpOutput,
] as const;
export type AllTyped = Expect<Equal<Typed<typeof built>[number], true>>;

// Exactly what validation gives: defaulted options present, durations in ms, the rest optional, nothing else.
export type Stdout = Expect<Equal<OptionsOfPlugin<typeof stdout>, { format: 'json' | 'text' | 'template'; template?: string; only_fields?: string[]; except_fields?: string[] }>>;
export type TcpOutput = Expect<Equal<OptionsOfPlugin<typeof tcpOutput>, {
  address: string; format: 'json' | 'text' | 'template'; template?: string; only_fields?: string[]; except_fields?: string[]; connect_timeout: number; keepalive: number;
  reconnect: { backoff: number; max_backoff: number }; replay_buffer: number; tls?: TlsClientOptions;
}>>;
export type Where = Expect<Equal<OptionsOfPlugin<typeof where>, { condition: string }>>;

const SCHEMA = {
  type: 'object',
  required: ['path'],
  properties: {
    path: { type: 'string', minLength: 1 },
    every: { duration: true, default: '5s' },
    max: { size: true, default: '1KiB' },
    mode: { enum: ['a', 'b'], default: 'a' },
    limit: { anyOf: [{ type: 'integer', minimum: 1 }, { const: 'none' }] },
    nested: { type: 'object', additionalProperties: false, default: {}, properties: { n: { type: 'integer', default: 3 }, m: { duration: true } } },
  },
} as const satisfies OptionSchema;

export type Derived = Expect<Equal<OptionsOf<typeof SCHEMA>, {
  path: string; every: number; max: number; mode: 'a' | 'b'; limit?: number | 'none'; nested: { n: number; m?: number };
}>>;

describe('option types derived from the schemas (issue 15)', () => {
  it('OptionsOf is what the loader delivers: defaults applied (nested ones too), durations in ms, sizes in bytes', () => {
    const plugin = definePlugin({ kind: 'output', name: 'typed', description: 'A typed test plugin.', schema: SCHEMA, create: () => ({ write: async () => {} }) });
    const options: Record<string, unknown> = { path: 'out.log', nested: { m: '2s' } };
    assert.equal(optionsValidator(plugin)(options), true);
    const expected: OptionsOfPlugin<typeof plugin> = { path: 'out.log', every: 5000, max: 1024, mode: 'a', nested: { n: 3, m: 2000 } };
    assert.deepEqual(options, expected);
    assert.equal(optionsValidator(plugin)({ path: 'x', other: 1 }), false, 'the root is closed: no keys besides the schema\'s');
  });
});
