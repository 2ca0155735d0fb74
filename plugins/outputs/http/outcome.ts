// What a response means for the events it carried: accepted (2xx), worth another attempt (5xx, 408, 429, and any
// connection error or timeout: the server may take them later), or refused for good (every other status: another
// attempt would get the same answer, so the events go to the dead letter rather than block the pipeline forever).

export type Outcome =
  | { kind: 'accepted' }
  | { kind: 'retry'; reason: string; /** ms the server asked to wait (Retry-After) */ wait?: number }
  | { kind: 'rejected'; reason: string };

/** Retry-After as ms from `now`: delta-seconds or an HTTP-date (RFC 9110 10.2.3); undefined when unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function outcomeOf(status: number, retryAfter?: string, body = ''): Outcome {
  if (status >= 200 && status < 300) return { kind: 'accepted' };
  const said = body.trim() ? `: ${body.trim().slice(0, 200)}` : '';
  if (status >= 500 || status === 408 || status === 429) {
    return { kind: 'retry', reason: `HTTP ${status}${said}`, wait: status === 429 || status === 503 ? parseRetryAfter(retryAfter) : undefined };
  }
  return { kind: 'rejected', reason: `HTTP ${status}${said}` };
}
