// Error-log figures: message templates against Loghub's EventTemplate (an independent, hand-checked grouping of the
// same 2,000 lines), the masking rules one by one, and the report aggregate in a real pipeline (apache_error ->
// report): counts per level and module, top messages only at or above message_level, grouped by template (two
// different 10-line PHP fatal errors that agree on their first 200 characters stay two), a sample each.
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Event } from '../core/index.js';
import { buildErrorParser } from '../lib/apache/index.js';
import { ErrorLogCounter, messageTemplate, TEMPLATE_MAX } from '../lib/stats/index.js';
import { corpus, readLines } from './support/corpora.js';
import { startPipeline } from './support/pipeline-harness.js';

/** LineId,Time,Level,Content,EventId,EventTemplate (Content may hold commas; the last two columns do not). */
function readStructured(file: string): Array<{ eventId: string; template: string }> {
  return readLines(file).slice(1).map((row) => {
    const r = row.replace(/\r$/, '');
    const last = r.lastIndexOf(',');
    const idStart = r.lastIndexOf(',', last - 1);
    return { eventId: r.slice(idStart + 1, last), template: r.slice(last + 1) };
  });
}

describe('error-log message templates', function () {
  this.timeout(60_000);

  for (const [log, csv] of [['Apache_2k.log', 'Apache_2k.log_structured.csv'], ['logparser-corrected/Apache_2k.log', 'logparser-corrected/Apache_2k.log_structured_corrected.csv']]) {
    it(`${log}: every line's template equals Loghub's EventTemplate (${csv}), so the grouping is Loghub's too`, async function () {
      const dir = corpus(this, 'loghub-apache-error');
      // The apache_error filter's parser (lib/apache), as `visor analyze` runs it.
      const parser = buildErrorParser({ timezone: 'UTC', unescape: true });
      const parsed = new Map<number, Event>();
      readLines(path.join(dir, log)).forEach((l, i) => {
        const e: Event = {};
        if (parser.parse(l, e) === undefined) parsed.set(i + 1, e);
      });
      const truth = readStructured(path.join(dir, csv));
      assert.equal(parsed.size, 2000);
      let agree = 0;
      const ours = new Map<string, Set<string>>(); // our template -> Loghub's EventIds
      const theirs = new Map<string, Set<string>>(); // EventId -> our templates
      const wrong: string[] = [];
      for (const [n, e] of parsed) {
        // Loghub's Content keeps the `[client <ip>] ` that the parser splits off into client_ip.
        const template = (e.client_ip === null ? '' : '[client <*>] ') + messageTemplate(e.message_text as string);
        const t = truth[n - 1]!;
        if (template === t.template) agree++;
        else if (wrong.length < 5) wrong.push(`line ${n}: ${JSON.stringify(template)} vs ${JSON.stringify(t.template)}`);
        (ours.get(template) ?? ours.set(template, new Set()).get(template)!).add(t.eventId);
        (theirs.get(t.eventId) ?? theirs.set(t.eventId, new Set()).get(t.eventId)!).add(template);
      }
      assert.deepEqual(wrong, [], 'templates that differ');
      assert.equal(agree, 2000, `template text agreement ${agree}/2000`);
      // Grouping accuracy (Loghub's metric): our groups and Loghub's are the same partition of the lines.
      assert.equal(ours.size, 6);
      for (const ids of ours.values()) assert.equal(ids.size, 1);
      for (const templates of theirs.values()) assert.equal(templates.size, 1);
    });
  }

  it('masks numbers, paths, addresses, hex and ids, and one-token quoted strings; keeps words and quoted sentences', () => {
    const cases: Array<[string, string]> = [
      ['File does not exist: /var/www/html/favicon.ico', 'File does not exist: <*>'],
      ['File does not exist: /var/www/html/, referer: x', 'File does not exist: <*>, referer: x'],
      ['error reading status line from remote server localhost:8080', 'error reading status line from remote server <*>'],
      ['HTTP: attempt to connect to 127.0.0.1:9000 (localhost) failed', 'HTTP: attempt to connect to <*> (localhost) failed'],
      ['client 2001:db8::7 denied, [fe80::1%eth0] too', 'client <*> denied, [<*>%eth0] too'],
      ['long lost child came home! (pid 813)', 'long lost child came home! (pid <*>)'],
      ['Apache/2.4.58 (Ubuntu) OpenSSL/3.0.13 configured -- resuming normal operations', 'Apache/<*> (Ubuntu) OpenSSL/<*> configured -- resuming normal operations'],
      ['disabling worker for (localhost:3000) for 60s', 'disabling worker for (<*>) for <*>'],
      ['session 0x7f3a2c001b40 id 3f2a9c1e8b7d6a5f4e3d2c1b0a998877 req 550e8400-e29b-41d4-a716-446655440000', 'session <*> id <*> req <*>'],
      ['user bob: authentication failure for "/index.html": Password Mismatch', 'user bob: authentication failure for "<*>": Password Mismatch'],
      ["Use 'LimitInternalRecursion' to increase. Use 'LogLevel debug' to get a backtrace.", "Use '<*>' to increase. Use 'LogLevel debug' to get a backtrace."],
      ['proxy: https://api.example.com/v1/x?y=1 failed', 'proxy: <*> failed'],
      ['jk2_init() Found child 6725 in scoreboard slot 10', 'jk2_init() Found child <*> in scoreboard slot <*>'],
      ['mod_jk child init 1 -2', 'mod_jk child init <*> <*>'],
      ['workerEnv.init() ok /etc/httpd/conf/workers2.properties', 'workerEnv.init() ok <*>'],
    ];
    for (const [message, template] of cases) assert.equal(messageTemplate(message), template, message);
  });

  it('a template longer than TEMPLATE_MAX is cut, with a hash of the whole: two that agree on their start stay apart', () => {
    const head = 'x '.repeat(TEMPLATE_MAX);
    const a = messageTemplate(`${head} alpha`);
    const b = messageTemplate(`${head} beta`);
    assert.ok(a.length <= TEMPLATE_MAX && b.length <= TEMPLATE_MAX);
    assert.notEqual(a, b);
    assert.equal(messageTemplate(`${head} alpha`), a, 'deterministic');
  });
});

/** A PHP fatal error of 10 lines as php-fpm sends it through mod_proxy_fcgi (one error-log line, \n escaped). */
function phpFatal(fn: string, file: string, line: number): string {
  const frames = Array.from({ length: 7 }, (_, i) => `#${i} /var/www/html/vendor/framework/src/Kernel${i}.php(${100 + i}): ${fn}${i}()`);
  return `AH01071: Got error 'PHP message: PHP Fatal error:  Uncaught Error: Call to undefined method App\\\\Http\\\\Controllers\\\\OrderController::handle() in /var/www/html/app/Http/Controllers/${file}:${line}\\nStack trace:\\n${frames.join('\\n')}\\n  thrown in /var/www/html/app/Http/Controllers/${file} on line ${line}'`;
}

describe('report aggregate: error-log figures', function () {
  this.timeout(30_000);
  const line = (level: string, module: string, text: string, i: number) =>
    `[Wed Nov 25 10:00:${String(i % 60).padStart(2, '0')}.123456 2026] [${module}:${level}] [pid ${100 + i}:tid 7] [client 203.0.113.${i % 200}:${40000 + i}] ${text}`;

  async function report(lines: string[], extra = ''): Promise<Event> {
    const h = await startPipeline(`
inputs: { src: { type: test_script } }
filters: { errors: { type: apache_error, inputs: [src], timezone: UTC } }
aggregates: { rep: { type: report, inputs: [errors], interval: 1h, emit_empty: false${extra} } }
outputs:
  out: { type: test_record, inputs: [rep] }
  parsed: { type: test_record, inputs: [errors] }
  bad: { type: test_record, inputs: [errors._unparsed] }
`);
    await h.script('src').send(lines.map((message) => ({ message })));
    await h.run.end();
    assert.deepEqual(h.probe('bad').written, [], 'every line parsed');
    assert.equal(h.probe('out').written.length, 1);
    return h.probe('out').written[0]!;
  }

  it('LogLevel info: levels and modules counted, top messages at warn and worse only, by template, with samples', async () => {
    const lines: string[] = [];
    // What a server at LogLevel info writes: many core:info lines, lifecycle notices, some errors and warnings.
    for (let i = 0; i < 300; i++) lines.push(line('info', 'core', `(104)Connection reset by peer: AH01075: Error dispatching request to : (passing brigade to output filters) #${i}`, i));
    for (let i = 0; i < 40; i++) lines.push(line('notice', 'mpm_event', 'AH00489: Apache/2.4.58 (Ubuntu) configured -- resuming normal operations', i));
    for (let i = 0; i < 40; i++) lines.push(line('notice', 'mpm_event', 'AH00491: caught SIGTERM, shutting down', i));
    for (let i = 0; i < 25; i++) lines.push(line('error', 'core', `AH00128: File does not exist: /var/www/html/img/${i}.png`, i));
    for (let i = 0; i < 12; i++) lines.push(line('warn', 'ssl', `AH01909: www${i % 3}.example.com:443:0 server certificate does NOT include an ID which matches the server name`, i));
    for (let i = 0; i < 3; i++) lines.push(line('crit', 'core', `(13)Permission denied: AH00529: /var/www/site${i}/.htaccess pcfg_openfile: unable to check htaccess file`, i));
    const r = await report(lines);
    assert.equal(r.error_log_lines, lines.length);
    assert.deepEqual(r.error_log_levels, { crit: 3, error: 25, warn: 12, notice: 80, info: 300 });
    assert.deepEqual(Object.keys(r.error_log_levels as object), ['crit', 'error', 'warn', 'notice', 'info'], 'most severe first');
    assert.equal(r.error_message_level, 'warn');
    assert.deepEqual(r.error_log_modules, [{ value: 'core', count: 28 }, { value: 'ssl', count: 12 }], 'modules of warn and worse');
    const top = r.top_error_messages as Array<{ value: string; count: number; level: string; sample: string }>;
    assert.deepEqual(top.map(({ value, count, level }) => ({ value, count, level })), [
      { value: 'AH00128: File does not exist: <*>', count: 25, level: 'error' },
      { value: 'AH01909: <*>:<*> server certificate does NOT include an ID which matches the server name', count: 12, level: 'warn' },
      { value: '(<*>)Permission denied: AH00529: <*> pcfg_openfile: unable to check htaccess file', count: 3, level: 'crit' },
    ]);
    assert.equal(top[0]!.sample, 'AH00128: File does not exist: /var/www/html/img/0.png', 'the first message of the template, as logged');
    assert.equal(top[2]!.sample, '(13)Permission denied: AH00529: /var/www/site0/.htaccess pcfg_openfile: unable to check htaccess file');
    assert.ok(top.every((m) => !/resuming normal operations|SIGTERM|Connection reset/.test(m.value)), 'no notice or info line among the errors');
    assert.match(String(r.message), /top error messages \(warn and worse\):\n +25 {2}error +AH00128: File does not exist: <\*>/);
    assert.match(String(r.html), /<details><summary>sample<\/summary><pre[^>]*>AH00128: File does not exist: \/var\/www\/html\/img\/0\.png<\/pre><\/details>/);
    // message_level: notice brings the lifecycle lines in; the figures per level stay the same.
    const notice = await report(lines, ', message_level: notice');
    assert.deepEqual(notice.error_log_levels, r.error_log_levels);
    const values = (notice.top_error_messages as Array<{ value: string; count: number }>).map((m) => `${m.value} ${m.count}`);
    assert.ok(values.includes('AH00489: Apache/<*> (Ubuntu) configured -- resuming normal operations 40'), values.join('\n'));
    assert.ok(values.includes('AH00491: caught SIGTERM, shutting down 40'));
  });

  it('two different 10-line PHP fatal errors that agree on their first 200 characters are two entries, not one of 20', async () => {
    const a = phpFatal('boot', 'OrderController.php', 41);
    const b = phpFatal('handle', 'OrderController.php', 41);
    const lines = [...Array.from({ length: 10 }, (_, i) => line('error', 'proxy_fcgi', a, i)), ...Array.from({ length: 10 }, (_, i) => line('error', 'proxy_fcgi', b, i))];
    const r = await report(lines);
    const top = r.top_error_messages as Array<{ value: string; count: number; sample: string }>;
    assert.equal(top.length, 2);
    assert.deepEqual(top.map((m) => m.count), [10, 10]);
    const samples = top.map((m) => m.sample);
    for (const s of samples) {
      assert.equal(s.split('\n').length, 10, 'the sample is the whole 10-line message');
      assert.equal(s.slice(0, 200), samples[0]!.slice(0, 200), 'the two agree on their first 200 characters');
    }
    // Paths and numbers masked; the function names (words) kept: that is what tells the two apart.
    assert.match(top[0]!.value, /\n#<\*> <\*>\(<\*>\): boot0\(\)\n/);
    assert.match(top[1]!.value, /\n#<\*> <\*>\(<\*>\): handle0\(\)\n/);
  });

  it('ErrorLogCounter: merged states (workers of visor analyze, dashboard slices) equal one counter fed everything', () => {
    const events = Array.from({ length: 600 }, (_, i) => ({
      level: ['error', 'warn', 'notice', 'crit'][i % 4]!, module: ['core', 'ssl', 'proxy'][i % 3]!, message_text: `thing ${i % 7} failed at /x/${i}`,
    }));
    const whole = new ErrorLogCounter(100);
    for (const e of events) whole.add(e.level, e);
    const parts = [new ErrorLogCounter(100), new ErrorLogCounter(100)];
    events.forEach((e, i) => parts[i % 2]!.add(e.level, e));
    const merged = new ErrorLogCounter(100);
    for (const p of parts) merged.merge(JSON.parse(JSON.stringify(p.toJSON())));
    assert.deepEqual(merged.levelCounts(), whole.levelCounts());
    assert.deepEqual(merged.moduleCounts('warn', 10), whole.moduleCounts('warn', 10));
    assert.deepEqual(merged.topMessages(10).map(({ value, count, level }) => ({ value, count, level })), whole.topMessages(10).map(({ value, count, level }) => ({ value, count, level })));
    assert.ok(merged.topMessages(10).every((m) => typeof m.sample === 'string' && messageTemplate(m.sample) === m.value));
    assert.equal(merged.messagesBound(), 0);
  });
});

describe('dashboard history from stored events: the error-log panels equal the live model fed the same events', function () {
  this.timeout(60_000);

  it('levels, modules and per-level templates from SQLite equal the DashboardModel\'s', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const os = await import('node:os');
    const { MetricsHub } = await import('../core/runtime/metrics.js');
    const { SqliteEngine, StoreWriter } = await import('../lib/store/index.js');
    const { DashboardModel, historyState } = await import('../lib/dashboard/index.js');
    const { pluginContext } = await import('./support/corpora.js');
    const { runCli } = await import('./support/helpers.js');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'visor-error-history-'));
    try {
      const log = path.join(dir, 'error.log');
      const start = Date.now() - 3_600_000;
      const gen = await runCli(['generate', '-f', 'error_2.4', '-n', '3000', '--seed', '4', '--start-time', new Date(start).toISOString(), '--speed', '60', '--timezone', 'UTC', '-o', log]);
      assert.equal(gen.code, 0, gen.stderr);
      const parser = buildErrorParser({ timezone: 'UTC', unescape: true });
      // Each with its position, as the tail input gives it: identical lines are told apart by it in the store.
      const events: Event[] = readLines(log).map((l, i) => {
        const e: Event = { message: l, position: { file: 'error-log-id', offset: i } };
        assert.equal(parser.parse(l, e), undefined, l);
        return e;
      });
      const model = new DashboardModel({ bucketMs: 60_000, buckets: 120, topN: 10, topWindowMs: Infinity, capacity: 1000, alerts: 0 });
      for (const e of events) model.add(e, e.timestamp as number);
      const last = Math.max(...events.map((e) => e.timestamp as number));
      const live = model.snapshot(last + 1);

      const file = path.join(dir, 'visor.db');
      const engine = new SqliteEngine({ file, synchronous: 'full', busyTimeout: 5000 });
      const writer = new StoreWriter(engine, { agent: 'test', events: true, exclude: [], positionField: 'position', kafkaField: 'kafka', deadLetter: path.join(dir, 'rejected.jsonl'), rollups: [] },
        pluginContext('db', 'store', new MetricsHub(), 'output'));
      await engine.open();
      for (let i = 0; i < events.length; i += 500) await writer.write(events.slice(i, i + 500).map((e) => ({ ...e })));
      const stored = await historyState(engine, { from: start - 60_000, to: last + 1, filters: {}, topN: 10, alerts: 0, title: 't', events: true });
      await engine.close();
      assert.equal(stored.history.source, 'events');
      assert.deepEqual(stored.error_log!.levels, live.error_log!.levels);
      const modules = (s: typeof live) => [...s.error_log!.modules].sort((a, b) => (a.join() < b.join() ? -1 : 1));
      assert.deepEqual(modules(stored), modules(live));
      const strip = (s: typeof live) => s.top.error_messages.map(({ value, count, level }) => ({ value, count, level }));
      assert.deepEqual(strip(stored), strip(live));
      for (const m of stored.top.error_messages) assert.equal(messageTemplate(m.sample!), m.value, 'a sample of its template, as logged');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
