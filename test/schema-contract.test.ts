// Issue 15, "the schema is the whole contract: validate == run": what `visor run` refuses, `visor validate` reports
// first, at FILE:LINE:COL with a fix, with the invalid-config status (78) — and `run` of the same config fails the
// same way, before starting anything (never an unlocated "failed to start"). The real CLI, as a user runs it.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { runCli, tempDir } from './support/helpers.js';

/** Invalid configuration, sysexits' EX_CONFIG (README, "Exit statuses"; bin/paths.ts). */
const EXIT_CONFIG = 78;

interface Case {
  title: string;
  /** More inputs, then the other sections: line 4 of the config (see `configText`). */
  yaml: string;
  /** Each expected error: [line, col, message]. */
  errors: Array<[number, number, string]>;
}

/** A whole config: a data_dir that start-up would create, stdin -> stdout (echoes a line once started), the case's
 * components. Line 4 is the first line of `yaml`. */
const configText = (dataDir: string, yaml: string) => `service: { data_dir: ${JSON.stringify(dataDir)} }
inputs:
  in: { type: stdin }
${yaml}`;

const CASES: Case[] = [
  {
    title: 'an alert rule with both for and cooldown (and the rest of the rule checks, folded into the schema)',
    yaml: `aggregates:
  alerts:
    type: alert
    inputs: [in]
    rules:
      - { name: slow, when: 'status >= 500', for: 10s, cooldown: 1m }
      - { name: gone, absent: 1s, when: 'status > 1' }
      - { name: zero, absent: 0s }
      - { name: nothing }
      - { name: slow, when: 'status == 404', evaluate_every: 1s }
outputs:
  out: { type: stdout, inputs: [in, alerts], format: text }
`,
    errors: [
      [9, 56, 'rules[0]: "cooldown" is for per-event rules; a threshold rule (with for) alerts once when firing and once when resolved: remove cooldown, or for'],
      [10, 35, 'rules[1]: "when" cannot be used with "absent" (an absence rule fires when no event arrives for the absent duration): remove when, or absent'],
      [11, 31, 'invalid value 0 for rules[2].absent — needs a duration greater than 0, e.g. absent: 30s'],
      [12, 9, 'rules[3]: needs "when" (a condition such as status >= 500, or with over an aggregate comparison) or "absent" (a duration)'],
      [13, 11, 'rules: rules[4] has the name of rules[0] ("slow"); give each rule a name of its own'],
      [13, 46, 'rules[4]: "evaluate_every" is for threshold (for/over) and absence rules; a per-event rule alerts as events arrive: remove evaluate_every'],
    ],
  },
  {
    title: 'a window with emit: partials and time: processing, or ack: absorb',
    yaml: `aggregates:
  w: { type: window, inputs: [in], window: { size: 10s }, emit: partials, time: processing }
  a: { type: window, inputs: [in], window: { size: 10s }, emit: partials, ack: absorb }
outputs:
  out: { type: stdout, inputs: [in, w, a], format: text }
`,
    errors: [
      [5, 75, 'emit: partials needs time: event (partitions are merged by event-time windows): remove time: processing'],
      [6, 75, 'emit: partials acknowledges input events only when the partials holding them are delivered: remove ack: absorb (or set ack: emit)'],
    ],
  },
  {
    title: 'a window whose shape or metric create() would refuse',
    yaml: `aggregates:
  h: { type: window, inputs: [in], window: { type: hopping, size: 10s, advance: 20s } }
  t: { type: window, inputs: [in], window: { size: 10s, advance: 5s }, metrics: { bad: "avg(bytes" } }
outputs:
  out: { type: stdout, inputs: [in, h, t], format: text }
`,
    errors: [
      [5, 72, 'window: advance (20000ms) must not exceed size (10000ms)'],
      [6, 57, 'window: advance is only for hopping windows: add type: hopping, or remove advance'],
      [6, 88, 'invalid value "avg(bytes" for metrics.bad — unclosed "(" of avg at column 10 of "avg(bytes"'],
    ],
  },
  {
    title: 'a bot filter with a pattern that is no regex, an unknown category, per: 0s; a user_agent cache_size below 0',
    yaml: `filters:
  b: { type: bot, inputs: [in], patterns: [{ pattern: 'Acme(', category: monitoring }, { pattern: 'x', category: robot }], behaviour: { per: 0s } }
  u: { type: user_agent, inputs: [in], cache_size: -1 }
outputs:
  out: { type: stdout, inputs: [b, u], format: text }
`,
    errors: [
      [5, 55, 'invalid value "Acme(" for patterns[0].pattern — invalid regex "Acme(": Unterminated group'],
      [5, 114, 'invalid value "robot" for patterns[1].category — expected one of: search_engine, ai_crawler, seo, monitoring, feed_reader, library, scanner, other'],
      [5, 142, 'invalid value 0 for behaviour.per — needs a duration greater than 0, e.g. per: 1m'],
      [6, 52, 'invalid value -1 for cache_size — must be >= 0'],
    ],
  },
  {
    title: 'an email output with max_message_bytes below 4KiB',
    yaml: `outputs:
  out: { type: stdout, inputs: [in], format: text }
  mail: { type: email, inputs: [in], host: 127.0.0.1, from: a@example.com, to: [b@example.com], max_message_bytes: 1KiB }
`,
    errors: [[6, 116, 'invalid value 1024 for max_message_bytes — must be at least 4096 bytes (4KiB), room for the headers and a note, e.g. max_message_bytes: 64KiB']],
  },
  {
    title: 'an email subject that is no template (core templates, as file paths and topics are)',
    yaml: `outputs:
  out: { type: stdout, inputs: [in], format: text }
  mail: { type: email, inputs: [in], host: 127.0.0.1, from: a@example.com, to: [b@example.com], subject: '[visor] {{ name' }
`,
    errors: [[6, 106, 'invalid value "[visor] {{ name" for subject — unbalanced "{{ }}" in template "[visor] {{ name" (write {{ field }})']],
  },
  {
    title: 'secrets too short to be masked safely (an SMTP password "on", a dashboard token)',
    yaml: `outputs:
  out: { type: stdout, inputs: [in], format: text }
  mail: { type: email, inputs: [in], host: 127.0.0.1, from: a@example.com, to: [b@example.com], auth: { user: visor, pass: 'on' } }
  dash: { type: dashboard, inputs: [in], listen: '127.0.0.1:0', token: short }
`,
    errors: [
      [6, 124, 'invalid value for auth.pass — a secret must have at least 8 characters to be masked safely in logs (shorter values occur in ordinary text): use a longer one, or leave it empty for none'],
      [7, 72, 'invalid value for token — a secret must have at least 8 characters to be masked safely in logs (shorter values occur in ordinary text): use a longer one, or leave it empty for none'],
    ],
  },
  {
    title: 'intervals of 0 (a timer that would fire continuously): summary, report, tail, window',
    yaml: `  t: { type: tail, path: x.log, poll_interval: 0s, glob_interval: 0ms }
aggregates:
  s: { type: summary, inputs: [in], interval: 0s }
  r: { type: report, inputs: [in], interval: 0 }
  w: { type: window, inputs: [in], window: { size: 10s }, emit: partials, ack: emit, watermark_interval: 0s }
outputs:
  out: { type: stdout, inputs: [in, t, s, r, w], format: text }
`,
    errors: [
      [4, 48, 'invalid value 0 for poll_interval — needs a duration greater than 0, e.g. poll_interval: 250ms'],
      [4, 67, 'invalid value 0 for glob_interval — needs a duration greater than 0, e.g. glob_interval: 1s'],
      [6, 47, 'invalid value 0 for interval — needs a duration greater than 0, e.g. interval: 10s'],
      [7, 46, 'invalid value 0 for interval — needs a duration greater than 0, e.g. interval: 5m'],
      [8, 106, 'invalid value 0 for watermark_interval — needs a duration greater than 0, e.g. watermark_interval: 1s'],
    ],
  },
  {
    title: 'a first backoff longer than max_backoff (core retry, tcp reconnect, email)',
    yaml: `outputs:
  out: { type: stdout, inputs: [in], format: text, retry: { backoff: 1m, max_backoff: 10s } }
  t: { type: tcp, inputs: [in], address: '127.0.0.1:9', reconnect: { backoff: 10s, max_backoff: 1s } }
  mail: { type: email, inputs: [in], host: 127.0.0.1, from: a@example.com, to: [b@example.com], backoff: 10m, max_backoff: 1m }
`,
    errors: [
      [5, 61, 'retry: backoff (60000ms) must not exceed max_backoff (10000ms): lower backoff, or raise max_backoff'],
      [6, 70, 'reconnect: backoff (10000ms) must not exceed max_backoff (1000ms): lower backoff, or raise max_backoff'],
      [7, 97, 'backoff (600000ms) must not exceed max_backoff (60000ms): lower backoff, or raise max_backoff'],
    ],
  },
  {
    title: 'a dashboard updated faster than every 100ms',
    yaml: `outputs:
  out: { type: stdout, inputs: [in], format: text }
  dash: { type: dashboard, inputs: [in], listen: '127.0.0.1:0', update_every: 50ms }
`,
    errors: [[6, 79, 'invalid value 50 for update_every — must be at least 100ms (got 50ms), e.g. update_every: 1s']],
  },
  {
    title: 'timezone: Mars/Olympus (a time zone that does not exist) in the file output and the generator',
    yaml: `  gen: { type: generator, count: 1, timezone: Mars/Olympus }
outputs:
  out: { type: stdout, inputs: [in, gen], format: text }
  f: { type: file, inputs: [in], path: out-%Y.log, timezone: Mars/Olympus }
`,
    errors: [
      [4, 47, 'invalid value "Mars/Olympus" for timezone — unknown time zone "Mars/Olympus": use local, UTC, an offset like +0100 or -05:30, or an IANA name like Europe/Paris'],
      [7, 62, 'invalid value "Mars/Olympus" for timezone — unknown time zone "Mars/Olympus": use local, UTC, an offset like +0100 or -05:30, or an IANA name like Europe/Paris'],
    ],
  },
  {
    title: "log_format '%h %Q %t' and error_log_format '%{' (formats the parsers cannot compile)",
    yaml: `filters:
  a: { type: apache_access, inputs: [in], log_format: '%h %Q %t' }
  e: { type: apache_error, inputs: [in], error_log_format: '%{' }
outputs:
  out: { type: stdout, inputs: [a, a._unparsed, e, e._unparsed], format: text }
`,
    errors: [
      [5, 55, 'invalid value "%h %Q %t" for log_format — unsupported directive %Q; supported: %a %A %b %B %D %f %h %H %I %k %l %L %m %O %p %P %q %r %R %s %>s %<s %S %t %{...}t %T %{ms}T %u %U %v %V %X %{Name}i %{Name}o %{Name}e %{Name}n %{Name}C %{c}a %{c}h %{remote}p %{local}p %{pid}P %{tid}P'],
      [6, 60, 'invalid value "%{" for error_log_format — unclosed { at column 2 of "%{"'],
    ],
  },
  {
    title: 'timezone: Mars/Olympus in the apache parsers',
    yaml: `filters:
  a: { type: apache_access, inputs: [in], timezone: Mars/Olympus }
  e: { type: apache_error, inputs: [in], timezone: Mars/Olympus }
outputs:
  out: { type: stdout, inputs: [a, a._unparsed, e, e._unparsed], format: text }
`,
    errors: [
      [5, 53, 'invalid value "Mars/Olympus" for timezone — unknown time zone "Mars/Olympus": use local, UTC, an offset like +0100 or -05:30, or an IANA name like Europe/Paris'],
      [6, 52, 'invalid value "Mars/Olympus" for timezone — unknown time zone "Mars/Olympus": use local, UTC, an offset like +0100 or -05:30, or an IANA name like Europe/Paris'],
    ],
  },
  {
    title: 'a generator start_time that is no date, a TLS file that does not exist, and TLS options that only go together',
    yaml: `  gen: { type: generator, count: 1, start_time: yesterday }
  t: { type: tcp, listen: '127.0.0.1:0', tls: { cert: /nonexistent/a.pem, key: /dev/null, require_client_cert: true } }
outputs:
  out: { type: stdout, inputs: [in, gen, t], format: text }
  o: { type: tcp, inputs: [in], address: '127.0.0.1:9', tls: { cert: /dev/null } }
`,
    errors: [
      [4, 49, 'invalid value "yesterday" for start_time — not a date: use ISO 8601 (2026-11-25T00:00:00Z) or epoch ms'],
      [5, 55, 'invalid value "/nonexistent/a.pem" for tls.cert — /nonexistent/a.pem does not exist (a path relative to the config file)'],
      [5, 91, 'tls: require_client_cert needs ca (the CA that signs client certificates): add ca, or remove require_client_cert'],
      [8, 64, 'tls: cert and key go together: add key, or remove cert'],
    ],
  },
  {
    title: 'a kafka topic regex that does not compile, and a time format the access parser cannot read',
    yaml: `  k: { type: kafka, brokers: ['127.0.0.1:9'], group_id: g, topics: [logs, '/(unclosed/'] }
filters:
  a: { type: apache_access, inputs: [in], log_format: '%h %{%Q}t' }
outputs:
  out: { type: stdout, inputs: [in, k, a, a._unparsed], format: text }
`,
    errors: [
      [4, 75, 'invalid value "/(unclosed/" for topics[1] — Invalid regular expression: /(unclosed/: Unterminated group'],
      [6, 55, 'invalid value "%h %{%Q}t" for log_format — unsupported time format directive %Q in "%Q"'],
    ],
  },
  {
    title: 'generator options its traffic streams and line makers would refuse (formats, bursts, profile, heartbeat, content)',
    yaml: `  acc:
    type: generator
    count: 1
    log_format: '%h %{%Q}t'
    heartbeat: { interval: 0s }
    profile: { period: 0s }
    bursts:
      scheduled: [{ every: 0s, for: 1s, multiplier: 2 }]
      random: { mean_gap: 1m, min_length: 10s, max_length: 5s }
    content: { statuses: { '200': 1, OK: 1 }, methods: { GET: 0 } }
  err:
    type: generator
    count: 1
    format: error_2.4
    level_streams: { error: { interval: [3s, 2s] } }
    content: { levels: { fatal: 1 }, error_messages: ['{path} gone', 'x {nope}'] }
outputs:
  out: { type: stdout, inputs: [in, acc, err], format: text }
`,
    errors: [
      [7, 17, 'invalid value "%h %{%Q}t" for log_format — unsupported time format directive %Q in "%Q"'],
      [8, 28, 'invalid value 0 for heartbeat.interval — must be greater than 0 (got 0ms), e.g. interval: 10s'],
      [9, 16, 'profile: period must be greater than 0 (got 0ms), e.g. period: 24h'],
      [11, 21, 'bursts.scheduled[0]: every must be greater than 0 (got 0ms), e.g. every: 1h'],
      [12, 48, 'bursts.random: max_length (5000ms) must not be below min_length (10000ms)'],
      [13, 16, 'content.statuses: "OK" is no HTTP status code'],
      [13, 47, 'content.methods: weights must not all be 0'],
      [18, 41, 'level_streams.error.interval: must be [min, max] with 0 <= min <= max and max > 0 (got [3000ms, 2000ms]), e.g. [2s, 5s]'],
      [19, 16, 'content.levels: "fatal" is no Apache level (emerg, alert, crit, error, warn, notice, info, debug, trace1, trace2, trace3, trace4, trace5, trace6, trace7, trace8)'],
      [19, 70, 'error message template "x {nope}": unknown placeholder {nope}; known: {docroot} {path} {vhost} {host} {backend} {user} {client} {n}'],
    ],
  },
];

describe('the schema is the whole contract: validate reports what run refuses (issue 15)', function () {
  this.timeout(30000);
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeEach(async () => { tmp = await tempDir(); });
  afterEach(async () => { await tmp.remove(); });

  for (const c of CASES) {
    it(`${c.title}: validate exits ${EXIT_CONFIG} with the located errors; run fails the same way before starting`, async () => {
      const dataDir = path.join(tmp.dir, 'data');
      const config = await tmp.file('cfg.yaml', configText(dataDir, c.yaml));
      const expected = c.errors.map(([line, col, message]) => `${config}:${line}:${col}: ${message}`);

      const validate = await runCli(['validate', '-c', config]);
      assert.equal(validate.code, EXIT_CONFIG, validate.stderr);
      assert.equal(validate.stdout, '');
      assert.deepEqual(validate.stderr.trimEnd().split('\n'), [...expected, `${config}: ${expected.length} error${expected.length === 1 ? '' : 's'}`]);

      const run = await runCli(['run', '-c', config], { input: 'a line the pipeline would echo\n' });
      assert.equal(run.code, EXIT_CONFIG, run.stderr);
      assert.deepEqual(run.stderr.trimEnd().split('\n'), expected, 'the same located errors, and nothing else (no "failed to start", no start-up log)');
      assert.equal(run.stdout, '', 'nothing was read or written');
      assert.equal(existsSync(dataDir), false, 'nothing was started: not even the data directory was created');
    });
  }

  it('the same options without the mistakes are valid and run (so the refusals above are about the mistakes alone)', async () => {
    const dataDir = path.join(tmp.dir, 'data');
    const fixed = `  gen: { type: generator, count: 1, timezone: Europe/Paris, format: common }
  acc:
    type: generator
    count: 1
    log_format: '%h %{%Y-%m-%d}t'
    heartbeat: { interval: 1h }
    profile: { period: 1h }
    bursts: { scheduled: [{ every: 1h, for: 1s, multiplier: 2 }], random: { mean_gap: 1m, min_length: 5s, max_length: 10s } }
    content: { statuses: { '200': 1 }, methods: { GET: 1 } }
  err:
    type: generator
    count: 1
    format: error_2.4
    level_streams: { error: { interval: [2ms, 3ms] } }
    content: { levels: { error: 1 }, error_messages: ['{path} gone'] }
  KAFKA
filters:
  b: { type: bot, inputs: [in], patterns: [{ pattern: 'Acme\\(', category: monitoring }, { pattern: 'x', category: other }], behaviour: { per: 1s } }
  u: { type: user_agent, inputs: [in], cache_size: 0 }
aggregates:
  alerts:
    type: alert
    inputs: [in]
    rules:
      - { name: slow, when: 'status >= 500', for: 10s }
      - { name: many, when: 'status >= 500', cooldown: 1m }
      - { name: gone, absent: 1h }
  h: { type: window, inputs: [in], window: { type: hopping, size: 10s, advance: 5s }, time: processing, metrics: { b: "avg(bytes)" } }
  WINDOW
outputs:
  out: { type: stdout, inputs: [in, gen, acc, err, alerts, h, b, u], format: text }
  f: { type: file, inputs: [in], path: out-%Y.log, timezone: Europe/Paris }
  dash: { type: dashboard, inputs: [in], listen: '127.0.0.1:0', update_every: 100ms, token: dashboard-token-1 }
  mail: { type: email, inputs: [alerts], host: 127.0.0.1, port: 1, from: a@example.com, to: [b@example.com], max_message_bytes: 4KiB, subject: '[visor] {{ name }} above 5%', auth: { user: visor, pass: 'on-and-on-and-on' } }
  PARTIALS_OUT
`;
    // Partials in event time need Kafka-fed events with timestamps to run, and the kafka input a broker: validated only.
    const partials = await tmp.file('partials.yaml', configText(dataDir, fixed
      .replace('KAFKA', "k: { type: kafka, brokers: ['127.0.0.1:9'], group_id: g, topics: [logs, '/^web-.*/'] }")
      .replace('WINDOW', 'p: { type: window, inputs: [in], window: { size: 10s }, emit: partials, time: event, ack: emit }')
      .replace('PARTIALS_OUT', 'drop: { type: blackhole, inputs: [p, p._late, k] }')));
    const validate = await runCli(['validate', '-c', partials]);
    assert.equal(validate.code, 0, validate.stderr);
    assert.equal(validate.stderr, '');

    const config = await tmp.file('ok.yaml', configText(dataDir, fixed.replace(/^ {2}(KAFKA|WINDOW|PARTIALS_OUT)\n/gm, '')));
    const run = await runCli(['run', '-c', config], { input: 'hello\n' });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^hello$/m);
    assert.ok(existsSync(dataDir), 'a run that starts creates its data directory (what the refused runs never did)');
  });
});
