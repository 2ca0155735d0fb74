// ua-parser-js 1.x ships no types: the part of its API Visor uses (1.x is MIT; 2.x is AGPL, so it stays below 2).
declare module 'ua-parser-js' {
  interface UAPart { name?: string; version?: string; major?: string }
  interface UADevice { vendor?: string; model?: string; type?: string }
  export class UAParser {
    constructor(ua?: string);
    setUA(ua: string): this;
    getBrowser(): UAPart;
    getOS(): UAPart;
    getDevice(): UADevice;
  }
}
