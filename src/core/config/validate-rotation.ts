import {parseDuration} from '../lib/time.js'
import {GENERATOR_TYPES, PASSWORD_CLASSES, type GeneratorSpec, type RotationPolicy} from './types.js'
import {GENERATE_FIELDS, GENERATE_LENGTH, ROTATE_FIELDS} from './fields.js'
import {isPlainObject, type Validator} from './validator.js'

/** `rotate: {every: 30d, generate: {type: password, length: 32}, verify: './check-db'}`. */
export function rotationPolicy(v: Validator, p: string[], raw: unknown): RotationPolicy {
  if (!isPlainObject(raw))
    v.fail(p, 'must be a mapping such as `{every: 30d, generate: {type: password, length: 32}, verify: "./check"}`')
  v.onlyKeys(p, raw, ROTATE_FIELDS)
  const policy: RotationPolicy = {}
  if (raw.every !== undefined) {
    const every = typeof raw.every === 'string' ? parseDuration(raw.every) : undefined
    if (every === undefined)
      v.fail(
        [...p, 'every'],
        `${JSON.stringify(raw.every)} is not a duration; write a number and a unit (s, m, h, d, w), e.g. 30d or 12h`,
      )
    policy.every = every
  }
  if (raw.verify !== undefined) {
    if (typeof raw.verify !== 'string' || raw.verify.trim() === '')
      v.fail([...p, 'verify'], 'must be a shell command as a string, e.g. `./scripts/check-db`')
    policy.verify = raw.verify
  }
  if (raw.generate !== undefined) policy.generate = generatorSpec(v, [...p, 'generate'], raw.generate)
  return v.withLine(policy, p)
}

function generatorSpec(v: Validator, p: string[], raw: unknown): GeneratorSpec {
  const spec = typeof raw === 'string' ? {type: raw} : raw
  if (!isPlainObject(spec))
    v.fail(
      p,
      `must be a generator type (${GENERATOR_TYPES.join(', ')}) or a mapping such as \`{type: password, length: 32}\``,
    )
  v.onlyKeys(p, spec, GENERATE_FIELDS)
  if (!(GENERATOR_TYPES as readonly unknown[]).includes(spec.type))
    v.fail([...p, 'type'], `must be one of ${GENERATOR_TYPES.join(', ')}`)
  const out: GeneratorSpec = {type: spec.type as GeneratorSpec['type']}
  if (spec.length !== undefined) {
    if (
      typeof spec.length !== 'number' ||
      !Number.isInteger(spec.length) ||
      spec.length < GENERATE_LENGTH.min ||
      spec.length > GENERATE_LENGTH.max
    )
      v.fail([...p, 'length'], `must be a whole number from ${GENERATE_LENGTH.min} to ${GENERATE_LENGTH.max}`)
    if (spec.type === 'uuid') v.fail([...p, 'length'], 'does not apply to uuid')
    out.length = spec.length
  }
  for (const key of ['classes', 'symbols', 'charset'] as const) {
    if (spec[key] !== undefined && spec.type !== 'password') v.fail([...p, key], 'applies to `type: password` only')
  }
  if (spec.classes !== undefined) {
    if (
      !Array.isArray(spec.classes) ||
      spec.classes.length === 0 ||
      !spec.classes.every((c: unknown) => (PASSWORD_CLASSES as readonly unknown[]).includes(c))
    ) {
      v.fail([...p, 'classes'], `must be a list of ${PASSWORD_CLASSES.join(', ')}`)
    }
    out.classes = [...new Set(spec.classes as NonNullable<GeneratorSpec['classes']>)]
  }
  if (spec.symbols !== undefined) {
    if (
      typeof spec.symbols !== 'string' ||
      spec.symbols.length === 0 ||
      /[\s\p{L}\p{N}]/u.test(spec.symbols) ||
      !/^[\x21-\x7e]+$/.test(spec.symbols)
    ) {
      v.fail([...p, 'symbols'], 'must be printable ASCII punctuation, e.g. "!#%+-.:=@^_~"')
    }
    out.symbols = spec.symbols
  }
  if (spec.charset !== undefined) {
    if (typeof spec.charset !== 'string' || new Set(spec.charset).size < 10 || !/^[\x21-\x7e]+$/.test(spec.charset)) {
      v.fail([...p, 'charset'], 'must be a string of at least 10 distinct printable ASCII characters')
    }
    if (spec.classes !== undefined) v.fail([...p, 'charset'], 'replaces `classes`; give one or the other')
    out.charset = spec.charset
  }
  // No length check against `classes`: the shortest length (8) exceeds the number of classes (4).
  return out
}
