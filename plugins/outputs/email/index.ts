// The email output: one message per event (text + HTML table), spooled durably under the component's data
// directory and delivered by a background sender with retry and exponential backoff. write() resolves once
// the messages are on disk, so a slow or unreachable mail server never blocks the pipeline (until the
// bounded spool is full: then write() waits). Beyond max_per_minute, queued messages are merged into one digest.
// Every message, digests included, is at most max_message_bytes as sent: it is built once (nodemailer's
// MailComposer), measured, cut if needed (fit.ts) and sent as those very bytes.
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { Backoff, backoffOrder, definePlugin, sleep, type Event } from '../../../core/index.js';
import { fitDigest, fitEvent, fitText } from './fit.js';
import { compileSubject, subjectSchema, type RenderedMail } from './render.js';
import { Spool, type SpooledMail, type SpoolEntry } from './spool.js';
import { watchAuth } from './auth-watch.js';

const WINDOW_MS = 60_000;
/** Most messages merged into one digest (the rest go into the next one). */
const MAX_DIGEST = 1000;
/** Smallest max_message_bytes: room for the headers and a note. */
export const MIN_MESSAGE_BYTES = 4096;
/** Headers (Date, Message-ID, MIME structure) besides the subject and addresses, for the quick upper bound. */
const HEADER_ALLOWANCE = 2048;

/** Why a `max_message_bytes` (bytes, after conversion) is refused, or undefined. */
function atLeastMinMessage(bytes: unknown): string | undefined {
  if (typeof bytes !== 'number') return undefined; // an invalid size is reported by the size keyword
  return bytes >= MIN_MESSAGE_BYTES ? undefined : `must be at least ${MIN_MESSAGE_BYTES} bytes (4KiB), room for the headers and a note, e.g. max_message_bytes: 64KiB`;
}

export default definePlugin({
  kind: 'output',
  name: 'email',
  description: 'Sends each event as an e-mail (subject naming service.name, a short message with local times and the dashboard link, then the fields as text and an HTML table) over SMTP, STARTTLS or TLS, one Message-ID per message. Messages are spooled to disk first and delivered in the background with retry and backoff; beyond max_per_minute they are merged into one digest. An alert marked amended: true (detect\'s digest made again for lines of its quiet period that arrived after it: the same alert corrected, for the store to overwrite) is not mailed again (metric email_amended_skipped_total), as an alert\'s cooldown gives one digest mail per period.',
  schema: {
    type: 'object',
    required: ['host', 'from', 'to'],
    check: backoffOrder,
    properties: {
      host: { type: 'string', minLength: 1, description: 'SMTP server host name or address.' },
      port: { type: 'integer', minimum: 1, maximum: 65535, description: 'SMTP port; 465 when secure, else 587.' },
      secure: { type: 'boolean', default: false, description: 'Implicit TLS from the first byte (usually port 465).' },
      require_tls: { type: 'boolean', default: false, description: 'Refuse to send unless the server offers STARTTLS.' },
      auth: {
        type: 'object',
        required: ['user'],
        additionalProperties: false,
        properties: {
          user: { type: 'string', description: 'SMTP user.' },
          pass: { type: 'string', secret: true, description: 'SMTP password, usually ${SMTP_PASS}.' },
        },
        description: 'SMTP AUTH credentials.',
      },
      tls: {
        type: 'object',
        additionalProperties: false,
        properties: {
          ca: { type: 'string', description: 'PEM file of the CA(s) to trust, relative to the config file.' },
          reject_unauthorized: { type: 'boolean', default: true, description: 'Verify the server certificate.' },
          servername: { type: 'string', description: 'Name expected in the server certificate (SNI).' },
        },
        description: 'TLS settings for secure and STARTTLS connections.',
      },
      from: { type: 'string', minLength: 1, description: 'Sender address.' },
      to: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'Recipients.' },
      cc: { type: 'array', items: { type: 'string' }, default: [], description: 'Copy recipients.' },
      subject: subjectSchema('Subject template: {{field}} or {{a.b}} is replaced by the field (empty when missing). Default: "[visor NAME] severity name" for alerts (NAME is service.name; the client and vhost follow when the alert names them, as detect\'s do; digests add ": N more in COOLDOWN", resolved and stopped alerts say so), "[visor NAME] report title" for reports, else the message.'),
      max_per_minute: { type: 'integer', minimum: 0, default: 10, description: 'Messages sent per minute; those beyond are merged into one digest. 0: no limit.' },
      queue_size: { type: 'integer', minimum: 1, default: 1000, description: 'Messages kept in the on-disk spool; when full, the output applies backpressure.' },
      backoff: { duration: true, default: '1s', description: 'First retry delay after a failed delivery; doubles on each failure, less up to 20% at random.' },
      max_backoff: { duration: true, default: '5m', description: 'Longest retry delay.' },
      timeout: { duration: true, default: '30s', description: 'Connection, greeting and socket timeout.' },
      drain_timeout: { duration: true, default: '5s', description: 'At shutdown, how long to keep sending what is spooled; the rest is sent after restart.' },
      max_message_bytes: { size: true, default: '1MiB', check: atLeastMinMessage, description: 'Largest message, counted as sent (headers and encoded text and HTML parts; at least 4KiB). A larger one, or a larger digest, is cut: its largest parts (samples, long lists, HTML) first, with a note saying how much was left out.' },
    },
  },
  create(options, context) {
    const { logger, metrics } = context;
    const cap = options.max_message_bytes;
    const truncated = metrics.counter('email_truncated_total', 'Messages cut to fit max_message_bytes.');
    const sent = metrics.counter('email_sent_total', 'Messages accepted by the SMTP server.');
    const merged = metrics.counter('email_merged_total', 'Messages merged into digests by the rate limit.');
    const queued = metrics.gauge('email_queued', 'Messages waiting in the spool.');
    const sendErrors = metrics.errors('send');
    const amendedSkipped = metrics.counter('email_amended_skipped_total', 'Alerts not mailed because they correct one mailed before (amended: true, detect\'s digests).');
    const unauthenticated = metrics.counter('email_unauthenticated_total', 'Messages sent without SMTP AUTH although credentials are configured (the server offered no AUTH).');

    let spool: Spool | undefined;
    let transport: import('nodemailer').Transporter | undefined;
    const stop = new AbortController();
    let loop: Promise<void> | undefined;
    let failures = 0;
    let lastError: string | undefined;
    let windowStart = 0;
    let windowCount = 0;
    let digestInWindow = false;

    const pause = (ms: number): Promise<void> => sleep(ms, stop.signal);

    let composer: typeof import('nodemailer/lib/mail-composer').default | undefined;
    const site = { name: context.service.name, url: context.service.public_url };
    const subject = options.subject === undefined ? undefined : compileSubject(options.subject);
    // Message-IDs: `<uuid@domain>`, the domain of the sender address (what receivers expect), of fixed length so
    // that a message measured before its id is known (fits) has the size it is sent with.
    const idDomain = /@([^\s@<>"]+)>?\s*$/.exec(options.from)?.[1] ?? hostname();
    const newMessageId = () => `<${randomUUID()}@${idDomain}>`;
    const PLACEHOLDER_ID = `<${'0'.repeat(36)}@${idDomain}>`;
    /** A digest's id follows from the messages it merges: the same batch sent again (a retry, a restart) has the same id. */
    const digestMessageId = (batch: SpoolEntry[]): string => {
      const hex = createHash('sha256').update(batch.map((e) => e.message_id).join('\n')).digest('hex');
      return `<${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}@${idDomain}>`;
    };
    const addressBytes = Buffer.byteLength(options.from) + [...options.to, ...options.cc].reduce((n, a) => n + Buffer.byteLength(a) + 2, 0);

    /** The headers that identify one message: its Message-ID and Date (when it was spooled), kept for every attempt.
     * A message measured before it has them (fits) is built with placeholders of the same length. */
    interface Identity { messageId: string; date: Date }
    const PLACEHOLDER: Identity = { messageId: PLACEHOLDER_ID, date: new Date(0) };

    /** The message exactly as it is sent (headers, MIME structure, encoded parts). */
    async function build(mail: RenderedMail, id: Identity = PLACEHOLDER): Promise<Buffer> {
      composer ??= (await import('nodemailer/lib/mail-composer')).default;
      const built = await new composer({
        from: options.from, to: options.to, cc: options.cc.length ? options.cc : undefined, subject: mail.subject, text: mail.text, html: mail.html,
        // The MIME boundary follows from the id too (nodemailer picks a random one): every attempt sends the same bytes.
        messageId: id.messageId, date: id.date, baseBoundary: createHash('sha256').update(id.messageId).digest('hex').slice(0, 16),
      }).compile().build();
      // A 7bit part keeps bare line feeds, which SMTP sends as CRLF: normalise first, so what is measured is what
      // the server receives (latin1 maps bytes to characters one to one).
      return Buffer.from(built.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
    }

    /** Whether the built message is at most max_message_bytes. Small messages are not built: quoted-printable
     * at most triples a byte (base64: x1.37), so 4 x (subject + text + html) + addresses + headers bounds them. */
    const fits = async (mail: RenderedMail): Promise<boolean> => {
      const bound = 4 * (Buffer.byteLength(mail.subject) + Buffer.byteLength(mail.text) + Buffer.byteLength(mail.html) + addressBytes) + HEADER_ALLOWANCE;
      if (bound <= cap) return true;
      return (await build(mail)).length <= cap;
    };

    async function send(mail: RenderedMail, id: Identity): Promise<void> {
      let raw = await build(mail, id);
      if (raw.length > cap) {
        // A message spooled before the limit existed (or with a lower one): cut as plain text.
        truncated.inc();
        raw = await build(await fitText(mail, cap, fits), id);
        if (raw.length > cap) logger.warn('message exceeds max_message_bytes even when cut (subject and addresses)', { bytes: raw.length, max_message_bytes: cap });
      }
      const info = await transport!.sendMail({ envelope: { from: options.from, to: [...options.to, ...options.cc] }, raw });
      if (info.rejected?.length) throw new Error(`recipients rejected: ${info.rejected.map(String).join(', ')}`);
      context.metrics.sentBytes.inc(raw.length);
    }

    async function run(s: Spool): Promise<void> {
      const delays = new Backoff({ initial: options.backoff, max: options.max_backoff });
      while (!stop.signal.aborted) {
        await s.waitForData(stop.signal);
        if (stop.signal.aborted) break;
        const now = Date.now();
        if (now - windowStart >= WINDOW_MS) { windowStart = now; windowCount = 0; digestInWindow = false; }
        let batch: SpoolEntry[];
        let mail: RenderedMail;
        if (!options.max_per_minute || windowCount < options.max_per_minute) {
          batch = s.peek(1);
          mail = batch[0]!;
        } else if (!digestInWindow) {
          batch = s.peek(MAX_DIGEST);
          if (batch.length === 1) mail = batch[0]!;
          else {
            const fitted = await fitDigest(batch, options.max_per_minute, cap, fits, site);
            mail = fitted.mail;
            if (fitted.cut) truncated.inc();
          }
        } else {
          await pause(windowStart + WINDOW_MS - now);
          continue;
        }
        const id: Identity = batch.length === 1
          ? { messageId: batch[0]!.message_id, date: new Date(batch[0]!.at) }
          : { messageId: digestMessageId(batch), date: new Date(Math.max(...batch.map((e) => e.at))) };
        try {
          await send(mail, id);
        } catch (err) {
          failures++;
          lastError = (err as Error).message;
          sendErrors.inc();
          const delay = delays.next();
          logger.warn('email delivery failed; will retry', { error: lastError, queued: s.size, retry_in_ms: delay });
          await pause(delay);
          continue;
        }
        failures = 0;
        lastError = undefined;
        delays.reset();
        if (batch.length > 1 || (windowCount >= options.max_per_minute && options.max_per_minute)) {
          digestInWindow = true;
          if (batch.length > 1) merged.inc(batch.length);
        } else {
          windowCount++;
        }
        sent.inc();
        await s.remove(batch.map((e) => e.id));
        queued.set(s.size);
      }
    }

    return {
      async start() {
        const nodemailer = (await import('nodemailer')).default;
        const tls: Record<string, unknown> = { rejectUnauthorized: options.tls?.reject_unauthorized ?? true };
        if (options.tls?.ca) tls.ca = await readFile(path.resolve(context.configDir, options.tls.ca), 'utf8');
        if (options.tls?.servername) tls.servername = options.tls.servername;
        transport = nodemailer.createTransport({
          // One kept-open connection: a new one per message costs the server's greeting delay each time
          // (~100 ms for many servers), which alone would break the alert latency target.
          pool: true,
          maxConnections: 1,
          host: options.host,
          port: options.port ?? (options.secure ? 465 : 587),
          secure: options.secure,
          requireTLS: options.require_tls,
          auth: options.auth ? { user: options.auth.user, pass: options.auth.pass } : undefined,
          tls,
          connectionTimeout: options.timeout,
          greetingTimeout: options.timeout,
          socketTimeout: options.timeout,
          // Read only to learn whether a connection logged in before it sent (nothing of it is logged as is).
          logger: options.auth ? watchAuth((first) => {
            unauthenticated.inc();
            if (first) logger.warn('the SMTP server offers no AUTH: the message went out unauthenticated although auth is configured (check host and port, or the server\'s AUTH settings)', { host: options.host, user: options.auth!.user });
          }) : false,
        });
        spool = new Spool(await context.dataDir(), options.queue_size, newMessageId);
        const torn = await spool.load();
        if (torn) logger.warn('ignored unreadable spool lines', { count: torn });
        if (spool.size) logger.info('resuming delivery of spooled messages', { queued: spool.size });
        queued.set(spool.size);
        loop = run(spool).catch((err) => logger.error('email sender stopped', { error: (err as Error).message }));
      },

      async write(events: Event[]) {
        const mails: SpooledMail[] = [];
        for (const e of events) {
          // A correction of a digest mailed already (the count of late lines added): one mail per quiet period.
          if (e.amended === true) {
            amendedSkipped.inc();
            continue;
          }
          const fitted = await fitEvent(e, subject, cap, fits, site);
          if (fitted.cut) truncated.inc();
          mails.push({ ...fitted.mail, message_id: newMessageId() });
        }
        await spool!.add(mails, stop.signal);
        queued.set(spool!.size);
      },

      async close() {
        if (spool) {
          const deadline = Date.now() + options.drain_timeout;
          while (spool.size && Date.now() < deadline && failures === 0) await new Promise((r) => setTimeout(r, 20));
          if (spool.size) logger.info('messages left in the spool are sent after restart', { queued: spool.size, spool: spool.file });
        }
        stop.abort();
        spool?.interrupt();
        await loop;
        transport?.close();
      },

      health() {
        return {
          healthy: failures < 3,
          reason: failures >= 3 ? `delivery failing: ${lastError}` : undefined,
          details: { queued: spool?.size ?? 0, failures, last_error: lastError },
        };
      },
    };
  },
});
