// Its own module, loaded only on a mistake: fast-levenshtein builds an ICU collator when it loads
// (tens of millions of instructions), which every `exec` would otherwise pay.
import levenshtein from 'fast-levenshtein'

/** The candidate nearest to `word` by edit distance (what @oclif/plugin-not-found suggests), if any is near. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: {distance: number; id: string} | undefined
  for (const id of candidates) {
    const distance = levenshtein.get(word, id)
    if (best === undefined || distance < best.distance) best = {distance, id}
  }
  // A suggestion that shares nothing with what was typed ("x" → "get") helps nobody.
  return best && best.distance <= Math.max(1, Math.floor(word.length / 3)) ? best.id : undefined
}
