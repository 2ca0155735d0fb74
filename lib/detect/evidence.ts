// What an alert shows of an event: the raw log line when the parser kept it (tail's message), else its main fields.
import { detachString, type Event } from '../../core/index.js';

/** The raw line when the parser kept it, else a short description. */
export function evidenceOf(e: Event): string {
  if (typeof e.message === 'string' && e.message) return detachString(e.message.slice(0, 500));
  const parts = ['client_ip', 'method', 'url', 'status', 'user_agent', 'message_text'].map((f) => e[f]).filter((v) => typeof v === 'string' || typeof v === 'number');
  return detachString(parts.join(' ').slice(0, 500));
}

