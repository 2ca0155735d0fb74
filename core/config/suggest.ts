// "Did you mean" suggestions for misspelt names (types, options, ids, enum values).
import { distance } from 'fastest-levenshtein';

/** How many edits a typo may contain: 1 for very short words (where 2 edits reach unrelated words), else 2 (a
 * swapped pair of letters, `jsno`, is 2 edits), and more for long names. */
function tolerance(word: string): number {
  return word.length <= 3 ? 1 : Math.max(2, Math.floor(word.length / 4));
}

/** The candidate closest to `word` when it is close enough to be a plausible typo; first wins ties. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const needle = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(needle, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= tolerance(word) ? best : undefined;
}

/** Either a did-you-mean, or `; <label>: a, b, c` listing every candidate (or `none`), so the user always has a next step. */
export function suggestOrList(word: string, candidates: string[], label: string): string {
  const match = closest(word, candidates);
  if (match !== undefined) return ` — did you mean "${match}"?`;
  return `; ${label}: ${candidates.length > 0 ? candidates.join(', ') : 'none'}`;
}
