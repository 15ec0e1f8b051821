import {type Match, type RedactPattern} from './match-types.js'

/** Above these, the skip loop's table fills up (every block shifts 0) and the automaton scans faster. */
const SKIP_LOOP_MAX_PATTERNS = 256
const SKIP_LOOP_MAX_LENGTH = 4096
const DENSE_MIN_CHILDREN = 16

/**
 * The matcher for short values (see matcher.ts for which values are short): an Aho-Corasick automaton
 * over a trie with sparse transitions (a dense row only for the root and for nodes with many children),
 * about 30 bytes per byte of value. For a few hundred values, matches are found with a Wu-Manber skip
 * loop over 2-byte blocks instead (most bytes are skipped, 300+ MB/s), and the automaton only reads a
 * chunk's tail to tell how many bytes could still start a value. With more values the automaton scans,
 * and it resumes where the last chunk ended.
 */
export class Automaton {
  /** Trie node -> its byte, first child, next sibling, failure link and depth (0 is the root). */
  private readonly label: Uint8Array
  private readonly child: Int32Array
  private readonly sibling: Int32Array
  private readonly fail: Int32Array
  private readonly depth: Int32Array
  /** Node -> the pattern that ends there (-1: none), and the next node on its failure chain where one ends. */
  private readonly term: Int32Array
  private readonly dict: Int32Array
  /** Node -> its dense row in `rows` (-1: none, walk its children). */
  private readonly rowOf: Int32Array
  private rows = new Int32Array(0)
  /** The root's transitions, dense: every byte leaves the root on the first step. */
  private readonly rootNext = new Int32Array(256)
  /** The longest value, in bytes. */
  readonly maxLen: number
  /** True when the automaton scans (and can resume mid-stream); false for the skip loop. */
  readonly incremental: boolean

  constructor(readonly patterns: RedactPattern[]) {
    const size = 1 + patterns.reduce((n, p) => n + p.value.length, 0)
    this.label = new Uint8Array(size)
    this.child = new Int32Array(size).fill(-1)
    this.sibling = new Int32Array(size).fill(-1)
    this.fail = new Int32Array(size)
    this.depth = new Int32Array(size)
    this.term = new Int32Array(size).fill(-1)
    this.dict = new Int32Array(size)
    this.rowOf = new Int32Array(size).fill(-1)
    this.maxLen = patterns.reduce((n, p) => Math.max(n, p.value.length), 0)
    this.incremental = patterns.length > SKIP_LOOP_MAX_PATTERNS || this.maxLen > SKIP_LOOP_MAX_LENGTH
    let states = 1
    for (const [index, p] of patterns.entries()) {
      let s = 0
      for (const b of p.value) {
        let next = this.edge(s, b)
        if (next === -1) {
          next = states++
          this.label[next] = b
          this.depth[next] = this.depth[s] + 1
          this.sibling[next] = this.child[s]
          this.child[s] = next
          if (s === 0) this.rootNext[b] = next
        }
        s = next
      }
      if (s !== 0 && this.term[s] === -1) this.term[s] = index
    }
    this.densify(states)
    this.link(states)
  }

  /** The trie edge from `s` on byte `b`, or -1. */
  private edge(s: number, b: number): number {
    if (s === 0) return this.rootNext[b] === 0 ? -1 : this.rootNext[b]
    for (let c = this.child[s]; c !== -1; c = this.sibling[c]) if (this.label[c] === b) return c
    return -1
  }

  /** Breadth-first failure links (the longest proper suffix in the trie) and dictionary links. */
  private link(states: number): void {
    const queue = new Int32Array(states)
    let tail = 0
    for (let c = this.child[0]; c !== -1; c = this.sibling[c]) queue[tail++] = c
    for (let head = 0; head < tail; head++) {
      const s = queue[head]
      for (let c = this.child[s]; c !== -1; c = this.sibling[c]) {
        const f = this.step(this.fail[s], this.label[c])
        this.fail[c] = f
        this.dict[c] = this.term[f] === -1 ? this.dict[f] : f
        queue[tail++] = c
      }
    }
  }

  /** One automaton step: follow failure links until an edge on `b` exists (the root always has one). */
  private step(state: number, b: number): number {
    let s = state
    for (;;) {
      if (s === 0) return this.rootNext[b]
      const row = this.rowOf[s]
      if (row === -1) {
        for (let c = this.child[s]; c !== -1; c = this.sibling[c]) if (this.label[c] === b) return c
      } else {
        const next = this.rows[row * 256 + b]
        if (next !== -1) return next
      }
      s = this.fail[s]
    }
  }

  /**
   * Nodes with many children (the first levels of many values: every line of a certificate bundle)
   * get a dense row, so a step costs one lookup there instead of a walk. At most one row per
   * DENSE_MIN_CHILDREN nodes, so the rows add at most 64 bytes per byte of value (a few percent in
   * practice).
   */
  private densify(states: number): void {
    const dense: number[] = []
    for (let s = 1; s < states; s++) {
      let n = 0
      for (let c = this.child[s]; c !== -1 && n < DENSE_MIN_CHILDREN; c = this.sibling[c]) n++
      if (n >= DENSE_MIN_CHILDREN) dense.push(s)
    }
    this.rows = new Int32Array(dense.length * 256).fill(-1)
    for (const [row, s] of dense.entries()) {
      this.rowOf[s] = row
      for (let c = this.child[s]; c !== -1; c = this.sibling[c]) this.rows[row * 256 + this.label[c]] = c
    }
  }

  /** The automaton's state after reading `buf[from..]` from `state` (0: the start). */
  advance(state: number, buf: Buffer, from = 0): number {
    let s = state
    for (let i = from; i < buf.length; i++) s = this.step(s, buf[i])
    return s
  }

  /** How many trailing bytes a state stands for: the longest suffix read that could start a value. */
  depthOf(state: number): number {
    return this.depth[state]
  }

  /**
   * Every occurrence of every value in `buf` that ends at or after `from`, given the automaton's
   * `state` after `buf[..from]` (only an incremental matcher resumes: the skip loop reads from 0), and
   * the state after all of `buf`.
   */
  find(buf: Buffer, from = 0, state = 0): {matches: Match[]; state: number} {
    if (this.patterns.length === 0) return {matches: [], state: 0}
    if (!this.incremental) {
      const end = this.advance(0, buf, Math.max(0, buf.length - this.maxLen + 1))
      return {matches: this.skipLoop(buf), state: end}
    }
    const matches: Match[] = []
    const {term, dict, patterns} = this
    let s = state
    for (let i = from; i < buf.length; i++) {
      s = this.step(s, buf[i])
      for (let t = term[s] === -1 ? dict[s] : s; t !== 0; t = dict[t]) {
        const p = patterns[term[t]]
        matches.push({start: i + 1 - p.value.length, end: i + 1, name: p.name})
      }
    }
    return {matches, state: s}
  }

  /** Wu-Manber shift table over 2-byte blocks of the first `minLen` bytes of every pattern. */
  private wm?: {minLen: number; shift: Uint8Array; candidates: Map<number, number[]>}

  private wuManber() {
    if (this.wm) return this.wm
    const minLen = this.patterns.reduce((n, p) => Math.min(n, p.value.length), Infinity)
    const shift = new Uint8Array(65536).fill(Math.min(255, minLen - 1))
    const candidates = new Map<number, number[]>()
    for (const [index, p] of this.patterns.entries()) {
      for (let j = 1; j < minLen; j++) {
        const gram = (p.value[j - 1] << 8) | p.value[j]
        shift[gram] = Math.min(shift[gram], minLen - 1 - j)
      }
      const last = (p.value[minLen - 2] << 8) | p.value[minLen - 1]
      const list = candidates.get(last) ?? []
      list.push(index)
      candidates.set(last, list)
    }
    this.wm = {minLen, shift, candidates}
    return this.wm
  }

  /** Candidates from the skip loop (most windows are skipped several bytes at a time), verified byte for byte. */
  private skipLoop(buf: Buffer): Match[] {
    const matches: Match[] = []
    const {minLen, shift, candidates} = this.wuManber()
    const n = buf.length
    for (let i = minLen - 1; i < n;) {
      const sh = shift[(buf[i - 1] << 8) | buf[i]]
      if (sh !== 0) {
        i += sh
        continue
      }
      const at = i - minLen + 1
      for (const index of candidates.get((buf[i - 1] << 8) | buf[i]) ?? []) {
        const p = this.patterns[index]
        const end = at + p.value.length
        if (end <= n && buf.compare(p.value, 0, p.value.length, at, end) === 0)
          matches.push({start: at, end, name: p.name})
      }
      i++
    }
    return matches
  }
}
