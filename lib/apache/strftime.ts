// Parses times written with a strftime format (Apache's %{format}t), compiled once per format.
import { monthIndex } from './shared.js';

/** Turns wall-clock parts into epoch ms for formats without %z (the log's time zone decides). */
export type WallClockToEpoch = (year: number, month: number, day: number, h: number, m: number, s: number) => number;

export const utcWallClock: WallClockToEpoch = (y, mo, d, h, m, s) => Date.UTC(y, mo, d, h, m, s);

const FULL_MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

interface Parts { y: number; mo: number; d: number; h: number; mi: number; s: number; pm: number; tz: number | undefined; epoch: number | undefined }
type Step = (text: string, pos: number, p: Parts) => number; // new position, or -1

function number(min: number, max: number, set: (p: Parts, v: number) => void, allowSpace = false): Step {
  return (t, pos, p) => {
    let i = pos;
    if (allowSpace && t.charCodeAt(i) === 32) i++;
    let v = 0;
    const start = i;
    while (i - start < max && i < t.length) {
      const c = t.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
      i++;
    }
    if (i - start < min) return -1;
    set(p, v);
    return i;
  };
}

const word = (set?: (p: Parts, w: string) => boolean): Step => (t, pos, p) => {
  let i = pos;
  while (i < t.length && /[A-Za-z]/.test(t[i])) i++;
  if (i === pos) return -1;
  return !set || set(p, t.slice(pos, i)) ? i : -1;
};

const literal = (text: string): Step => (t, pos) => (t.startsWith(text, pos) ? pos + text.length : -1);

const zone: Step = (t, pos, p) => {
  if (t[pos] === 'Z') { p.tz = 0; return pos + 1; }
  const m = /^([+-])(\d\d):?(\d\d)/.exec(t.slice(pos, pos + 6));
  if (!m) return -1;
  p.tz = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  return pos + m[0].length;
};

function stepsFor(format: string): Step[] {
  const steps: Step[] = [];
  for (let i = 0; i < format.length; i++) {
    if (format[i] !== '%' || i + 1 >= format.length) {
      steps.push(literal(format[i]));
      continue;
    }
    const c = format[++i];
    switch (c) {
      case 'Y': steps.push(number(4, 4, (p, v) => (p.y = v))); break;
      case 'y': steps.push(number(2, 2, (p, v) => (p.y = v < 69 ? 2000 + v : 1900 + v))); break;
      case 'm': steps.push(number(1, 2, (p, v) => (p.mo = v - 1))); break;
      case 'd': steps.push(number(1, 2, (p, v) => (p.d = v))); break;
      case 'e': steps.push(number(1, 2, (p, v) => (p.d = v), true)); break;
      case 'H': steps.push(number(1, 2, (p, v) => (p.h = v))); break;
      case 'k': steps.push(number(1, 2, (p, v) => (p.h = v), true)); break;
      case 'I': steps.push(number(1, 2, (p, v) => (p.h = v % 12))); break;
      case 'l': steps.push(number(1, 2, (p, v) => (p.h = v % 12), true)); break;
      case 'M': steps.push(number(1, 2, (p, v) => (p.mi = v))); break;
      case 'S': steps.push(number(1, 2, (p, v) => (p.s = v))); break;
      case 'j': steps.push(number(1, 3, (p, v) => { p.mo = 0; p.d = v; })); break;
      case 's': steps.push(number(1, 12, (p, v) => (p.epoch = v * 1000))); break;
      case 'b': case 'h': steps.push(word((p, w) => (p.mo = monthIndex(w.slice(0, 1).toUpperCase() + w.slice(1, 3).toLowerCase())) >= 0)); break;
      case 'B': steps.push(word((p, w) => (p.mo = FULL_MONTHS.indexOf(w.toLowerCase())) >= 0)); break;
      case 'a': case 'A': case 'Z': steps.push(word()); break;
      case 'p': steps.push(word((p, w) => { p.pm = /^pm$/i.test(w) ? 12 : 0; return /^[ap]m$/i.test(w); })); break;
      case 'z': steps.push(zone); break;
      case 'T': steps.push(...stepsFor('%H:%M:%S')); break;
      case 'R': steps.push(...stepsFor('%H:%M')); break;
      case 'D': steps.push(...stepsFor('%m/%d/%y')); break;
      case 'F': steps.push(...stepsFor('%Y-%m-%d')); break;
      case 'c': steps.push(...stepsFor('%a %b %e %H:%M:%S %Y')); break;
      case 'n': steps.push(literal('\n')); break;
      case 't': steps.push(literal('\t')); break;
      case '%': steps.push(literal('%')); break;
      default: throw new Error(`unsupported time format directive %${c} in "${format}"`);
    }
  }
  return steps;
}

/** A parser for `format`; returns epoch ms or NaN when the text does not fit. */
export function compileStrftime(format: string, wallClock: WallClockToEpoch = utcWallClock): (text: string) => number {
  const steps = stepsFor(format);
  return (text) => {
    const p: Parts = { y: 1970, mo: 0, d: 1, h: 0, mi: 0, s: 0, pm: 0, tz: undefined, epoch: undefined };
    let pos = 0;
    for (const step of steps) {
      pos = step(text, pos, p);
      if (pos < 0) return NaN;
    }
    if (pos !== text.length) return NaN;
    if (p.epoch !== undefined) return p.epoch;
    if (p.mo < 0 || p.mo > 11 || p.d < 1 || p.d > 366 || p.h > 23 || p.mi > 59 || p.s > 60) return NaN;
    const h = p.h + p.pm;
    if (p.tz !== undefined) return Date.UTC(p.y, p.mo, p.d, h, p.mi, p.s) - p.tz * 60000;
    return wallClock(p.y, p.mo, p.d, h, p.mi, p.s);
  };
}
