// Browser, OS and device type from a User-Agent string, with ua-parser-js 1.x (MIT). Device type is `bot` for
// a bot (as the bot filter tells them from the User-Agent, without the user's patterns), else ua-parser-js's when
// it gives one; it gives none for desktops, so a desktop is told by its OS (or, without one, by a known browser),
// and what says nothing is `unknown`.
import { UAParser } from 'ua-parser-js';
import { BotClassifier } from './bot-classify.js';
import { userAgentText, UserAgentMemo } from './ua-memo.js';

export const DEVICE_TYPES = ['desktop', 'mobile', 'tablet', 'console', 'smarttv', 'wearable', 'embedded', 'bot', 'unknown'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

/** The fields the user_agent filter sets, as it sets them. */
export interface UserAgentInfo {
  /** ua-parser-js's name: "Chrome", "Mobile Safari", "Firefox", "Edge", ... */
  browser: string | null;
  /** Major version, as a string ("120"). */
  browser_version: string | null;
  /** "Windows", "Mac OS", "iOS", "Android", "Linux", "Ubuntu", ... */
  os: string | null;
  /** As the user agent gives it ("10", "17.1.2", "10.15.7"). */
  os_version: string | null;
  device_type: DeviceType;
}

export const USER_AGENT_FIELDS = ['browser', 'browser_version', 'os', 'os_version', 'device_type'] as const;

const UNKNOWN: Readonly<UserAgentInfo> = Object.freeze({ browser: null, browser_version: null, os: null, os_version: null, device_type: 'unknown' });

// ua-parser-js's device types, kept as they are (1.x has no others).
const PARSER_TYPES = new Set<string>(['mobile', 'tablet', 'console', 'smarttv', 'wearable', 'embedded']);
// Systems of handhelds, for user agents that name one but no device type (e.g. "Android 10; K").
const HANDHELD_OS = new Set(['Android', 'iOS', 'HarmonyOS', 'KaiOS', 'Windows Phone', 'Windows Mobile', 'BlackBerry', 'Symbian', 'Tizen', 'Sailfish', 'webOS']);

/** Parses user agents; one instance reuses one ua-parser-js parser (it keeps the string it was given). */
export class UserAgentParser {
  private readonly parser = new UAParser();
  private readonly bots = new BotClassifier();

  parse(value: unknown): UserAgentInfo {
    const ua = userAgentText(value);
    if (ua === undefined) return UNKNOWN;
    this.parser.setUA(ua);
    const b = this.parser.getBrowser();
    const o = this.parser.getOS();
    const d = this.parser.getDevice();
    return {
      browser: b.name ?? null,
      browser_version: b.major ?? null,
      os: osName(o.name),
      os_version: osVersion(o.version),
      device_type: this.bots.classify(ua).is_bot ? 'bot' : deviceType(d.type, b.name, o.name),
    };
  }
}

// ua-parser-js gives some systems as the user agent spells them ("linux", "ubuntu"): one name per system, so that
// a panel of systems has one row for Linux (8 of the 593 distinct user agents of the corpora came lower-case).
const OS_SPELLING: Record<string, string> = { freebsd: 'FreeBSD', openbsd: 'OpenBSD', netbsd: 'NetBSD', sunos: 'SunOS', gnu: 'GNU' };

function osName(name: string | undefined): string | null {
  if (name === undefined || name === '') return null;
  if (name !== name.toLowerCase()) return name;
  return OS_SPELLING[name] ?? name[0].toUpperCase() + name.slice(1);
}

// For Linux and BSDs, ua-parser-js gives the machine as the version ("Linux i686" -> "i686"; 25 of the 593): no
// version. Windows keeps its names (XP, Vista, NT, CE).
const MACHINE = /^(i[3-6]86|x86_64|x64|amd64|aarch64|arm\w*|ppc\w*|sun4\w*|sparc\w*|mips\w*)$/i;

function osVersion(version: string | undefined): string | null {
  return version === undefined || version === '' || MACHINE.test(version) ? null : version;
}

function deviceType(type: string | undefined, browser: string | undefined, os: string | undefined): DeviceType {
  if (type !== undefined && PARSER_TYPES.has(type)) return type as DeviceType;
  if (os !== undefined) return HANDHELD_OS.has(os) ? 'mobile' : 'desktop';
  return browser !== undefined ? 'desktop' : 'unknown';
}

/** A UserAgentParser behind a UserAgentMemo. */
export function cachedUserAgentParser(capacity: number): UserAgentMemo<UserAgentInfo> {
  const parser = new UserAgentParser();
  return new UserAgentMemo(capacity, (ua) => parser.parse(ua), UNKNOWN);
}
