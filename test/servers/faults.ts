/**
 * The fault-injection and counter API the three test servers share (`server.faults`): a test injects a
 * fault by the name the client sees (test/suites/fixture.ts's FaultKind, plus a server's own extras), the
 * server takes the first matching one for each request and answers in its own wire shape, and every
 * request is counted by operation name, faults included.
 */
import type {FaultKind} from '../suites/fixture.js'

/** What every server's fault has; a server adds its own kinds and fields. */
export interface BaseFault {
  kind: string
  /** Only requests of this operation (the server's own names, or a pattern on them); every request when left out. */
  op?: string | RegExp
  /** How many requests it applies to; default all until cleared. */
  times?: number
  /** Let this many matching requests through before the fault applies. */
  skip?: number
}

/** A fault of the shared kinds, or of a server's `Extra` kinds with its extra fields. */
export type ServerFault<Extra extends string = never, Fields = object> = BaseFault & {kind: FaultKind | Extra} & Fields

const sameOp = (f: BaseFault, op: string): boolean =>
  f.op === undefined || (typeof f.op === 'string' ? f.op === op : f.op.test(op))

export class Faults<F extends BaseFault> {
  private list: Array<{fault: F; left: number; skip: number}> = []
  private readonly tally: Record<string, number> = {}

  /** `matches` decides whether a fault applies to a request (default: same `op`, or no `op`). */
  constructor(private readonly matches: (fault: F, op: string) => boolean = sameOp) {}

  inject(fault: F): void {
    this.list.push({fault, left: fault.times ?? Number.POSITIVE_INFINITY, skip: fault.skip ?? 0})
  }

  /** The fault this request of `op` gets, if any (one use of it is spent); `also` narrows the match. */
  take(op: string, also: (fault: F) => boolean = () => true): F | undefined {
    const entry = this.list.find((e) => e.left > 0 && this.matches(e.fault, op) && also(e.fault))
    if (entry === undefined) return undefined
    if (entry.skip > 0) {
      entry.skip--
      return undefined
    }
    entry.left--
    return entry.fault
  }

  /** Count one request of `op`. */
  count(op: string): void {
    this.tally[op] = (this.tally[op] ?? 0) + 1
  }

  /** Requests received, by operation (a live view: it changes as requests arrive). */
  counts(): Record<string, number> {
    return this.tally
  }

  /** Clear the faults, keep the counters. */
  clear(): void {
    this.list = []
  }

  /** Clear the counters, keep the faults. */
  resetCounts(): void {
    for (const k of Object.keys(this.tally)) delete this.tally[k]
  }

  /** Clear faults and counters. */
  reset(): void {
    this.clear()
    this.resetCounts()
  }
}
