// A real SMTP server (smtp-server) on 127.0.0.1 for tests: records every accepted message and the
// credentials it was given; can refuse recipients a number of times, or use TLS / STARTTLS.
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface Received {
  from: string;
  to: string[];
  raw: string;
  subject: string;
  text: string;
  html: string;
  user?: string;
  secure: boolean;
}

export interface TestSmtp {
  port: number;
  messages: Received[];
  auths: Array<{ user: string; pass: string }>;
  rcptAttempts: number;
  /** Messages received in full but refused at the end of DATA (`refuseData`). */
  refused: Received[];
  close(): Promise<void>;
}

export interface TestSmtpOptions {
  port?: number;
  secure?: boolean;
  key?: string;
  cert?: string;
  /** Require AUTH with these credentials. */
  auth?: { user: string; pass: string };
  /** Reply codes for the first RCPT TO commands (e.g. [451, 550]); later ones are accepted. */
  refuse?: number[];
  /** Reply codes for the first messages received in full (end of DATA), e.g. [451]: the sender has sent the whole
   * message and must send it again. */
  refuseData?: number[];
}

export { freePort } from './helpers.js';

function decodeQp(s: string): string {
  const bytes = Buffer.from(s.replace(/=\r?\n/g, ''), 'latin1');
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x3d && /^[0-9A-F]{2}$/i.test(bytes.subarray(i + 1, i + 3).toString('latin1'))) {
      out.push(parseInt(bytes.subarray(i + 1, i + 3).toString('latin1'), 16));
      i += 2;
    } else out.push(bytes[i]!);
  }
  return Buffer.from(out).toString('utf8');
}

function decodeWords(s: string): string {
  return s.replace(/=\?utf-8\?([QB])\?([^?]*)\?=\s*/gi, (_m, enc: string, data: string) =>
    enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : decodeQp(data.replace(/_/g, ' ')));
}

/** The body of the part with this content type (text/plain or text/html), decoded. */
function part(raw: string, type: string): string {
  const idx = raw.search(new RegExp(`Content-Type: ${type.replace('/', '\\/')}`, 'i'));
  if (idx < 0) return '';
  const rest = raw.slice(idx);
  const headEnd = rest.indexOf('\r\n\r\n');
  const head = rest.slice(0, headEnd);
  let body = rest.slice(headEnd + 4);
  const boundary = body.search(/\r\n--/);
  if (boundary >= 0) body = body.slice(0, boundary);
  if (/Content-Transfer-Encoding: quoted-printable/i.test(head)) return decodeQp(body);
  if (/Content-Transfer-Encoding: base64/i.test(head)) return Buffer.from(body, 'base64').toString('utf8');
  return body;
}

export async function startSmtp(opts: TestSmtpOptions = {}): Promise<TestSmtp> {
  const state: TestSmtp = { port: 0, messages: [], auths: [], rcptAttempts: 0, refused: [], close: async () => {} };
  const refuse = [...(opts.refuse ?? [])];
  const refuseData = [...(opts.refuseData ?? [])];
  const options: SMTPServerOptions = {
    secure: opts.secure ?? false,
    key: opts.key,
    cert: opts.cert,
    hideSTARTTLS: !opts.key,
    disabledCommands: opts.auth ? [] : ['AUTH'],
    authOptional: !opts.auth,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, cb) {
      state.auths.push({ user: auth.username ?? '', pass: auth.password ?? '' });
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) return cb(null, { user: auth.username });
      cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onRcptTo(_address, _session, cb) {
      state.rcptAttempts++;
      const code = refuse.shift();
      if (code) return cb(Object.assign(new Error(`refused for the test (${code})`), { responseCode: code }));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const headers = raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
        const subject = decodeWords(/^Subject: (.*)$/im.exec(headers)?.[1] ?? '');
        const code = refuseData.shift();
        (code ? state.refused : state.messages).push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw, subject,
          text: part(raw, 'text/plain'),
          html: part(raw, 'text/html'),
          user: typeof session.user === 'string' ? session.user : undefined,
          secure: session.secure,
        });
        if (code) return cb(Object.assign(new Error(`refused for the test (${code})`), { responseCode: code }));
        cb();
      });
    },
  };
  const server = new SMTPServer(options);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  server.on('error', () => {});
  state.port = (server.server.address() as { port: number }).port;
  state.close = () => new Promise<void>((r) => server.close(() => r()));
  return state;
}

export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
