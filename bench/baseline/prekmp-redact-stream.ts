// The masking stream with the long-value matcher before KMP fallback (commit de44a7d): the stream and the
// patterns are today's (they only call `matcher.cursor()`), the matcher is the copy in prekmp-matcher.ts.
export {patternsFor, RedactStream} from '../../src/core/exec/redact-stream.js'
export {Matcher} from './prekmp-matcher.js'
