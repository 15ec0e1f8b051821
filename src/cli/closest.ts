// Its own module, loaded only on a mistake, so no command pays for it on its way to work.
import {distance as editDistance} from 'fastest-levenshtein'

/** The candidate nearest to `word` by edit distance (what @oclif/plugin-not-found suggests), if any is near. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: {distance: number; id: string} | undefined
  for (const id of candidates) {
    const distance = editDistance(word, id)
    if (best === undefined || distance < best.distance) best = {distance, id}
  }
  // A suggestion that shares nothing with what was typed ("x" → "get") helps nobody.
  return best && best.distance <= Math.max(1, Math.floor(word.length / 3)) ? best.id : undefined
}
