// The suite moved to test/suites/conformance.ts and takes a ProviderFixture; this keeps the per-kind
// tests that still pass a ConformanceTarget running until they move onto fixtures.
import {conformance as suite, fromTarget, type ConformanceTarget} from '../suites/conformance.js'

export {conformanceInChild, type ConformanceTarget} from '../suites/conformance.js'

/** The suite for an old-style target (see fromTarget). */
export function conformance(t: ConformanceTarget): void {
  suite(fromTarget(t))
}
