import {PROVIDER_TYPES} from '../../providers/registry.js'
import {ALIAS_PATTERN, ENV_NAME_PATTERN} from '../reference.js'
import {
  CACHE_FIELDS,
  CREDENTIAL_KEYS,
  ENTRY_PARAM_NAME,
  ENV_ENTRY_FIELDS,
  ENVIRONMENT_FIELDS,
  ENVIRONMENT_NAME_PATTERN,
  FILE_ENTRY_FIELDS,
  FILE_NAME_MAX,
  FILE_NAME_PATTERN,
  GENERATE_FIELDS,
  GENERATE_LENGTH,
  ROTATE_FIELDS,
  TOP_LEVEL_FIELDS,
} from './fields.js'
import {isEntries, isOneOf, type SettingKind, type SettingsSchema} from './settings-schema.js'
import {GENERATOR_TYPES, PASSWORD_CLASSES} from './types.js'

type Schema = Record<string, unknown>

/** The schema's name (a URN: it is found by path, the copy the package ships, never fetched). */
export const SCHEMA_ID = 'urn:secrets-cli:secrets.yaml:1'

// The reference grammar of src/core/reference.ts as a pattern: a path of non-empty segments, then at most
// one `#field` and one `?key=value&...`, in either order. Path characters are printable, not # ? or \
// (S: a segment's, also not /; C: a field's).
const C = '[^\\u0000-\\u0020\\u007f#?\\\\]'
const S = '[^\\u0000-\\u0020\\u007f#?\\\\/]'
const V = '[^\\u0000-\\u0020\\u007f#?\\\\&]'
const QUERY = `\\?[a-zA-Z_]+=${V}+(?:&[a-zA-Z_]+=${V}+)*`
export const REFERENCE_PATTERN = `^[a-z][a-z0-9-]*://${S}+(?:/${S}+)*(?:#${C}+(?:${QUERY})?|${QUERY}(?:#${C}+)?)?$`
/** parseDuration's grammar (src/core/lib/time.ts): number-unit pairs, not all zero, blanks around allowed. */
export const DURATION_PATTERN = '^\\s*(?=[^1-9]*[1-9])(?:\\d+[smhdw])+\\s*$'

/** A pattern that matches a name only when it is none of `words`, in any case (JSON Schema patterns have no /i). */
function noneOf(words: Iterable<string>): string {
  const anyCase = (w: string) => [...w].map((c) => (/[a-z]/.test(c) ? `[${c}${c.toUpperCase()}]` : c)).join('')
  return `^(?!(?:${[...words].map(anyCase).join('|')})$)`
}
const NOT_A_CREDENTIAL = {$ref: '#/$defs/settingName'}

const mapping = (values: Schema, names?: Schema): Schema => ({
  type: 'object',
  ...(names === undefined ? {} : {propertyNames: names}),
  additionalProperties: values,
})
const nullable = (s: Schema): Schema => ({anyOf: [{type: 'null'}, s]})

function setting(kind: SettingKind): Schema {
  if (isOneOf(kind)) return {enum: [...kind.oneOf]}
  if (isEntries(kind)) {
    const textual =
      kind.entries === 'string' ||
      kind.entries === 'string[]' ||
      (typeof kind.entries === 'object' && !isOneOf(kind.entries))
    return mapping(setting(kind.entries), textual ? NOT_A_CREDENTIAL : undefined)
  }
  if (typeof kind === 'object') return settings(kind, false)
  if (kind === 'string[]') return {type: 'array', items: {type: 'string'}}
  return {type: kind}
}

function settings(schema: SettingsSchema, open: boolean): Schema {
  return {
    type: 'object',
    propertyNames: NOT_A_CREDENTIAL,
    properties: Object.fromEntries(Object.entries(schema).map(([k, kind]) => [k, setting(kind)])),
    additionalProperties: open,
  }
}

function provider(): Schema {
  return {
    type: 'object',
    required: ['type'],
    properties: {type: {enum: Object.keys(PROVIDER_TYPES)}},
    allOf: Object.entries(PROVIDER_TYPES).map(([kind, spec]) => {
      const s = settings(spec.settings, spec.openSettings === true)
      const properties = {type: {const: kind}, ...(s.properties as Schema)}
      return {if: {properties: {type: {const: kind}}}, then: {...s, properties}}
    }),
  }
}

const reference = {$ref: '#/$defs/reference'}
const entryParams = {$ref: '#/$defs/params'}
const duration = {$ref: '#/$defs/duration'}
const variableName = {pattern: ENV_NAME_PATTERN.source, not: {pattern: '^SECRETS_'}}

function generate(): Schema {
  const passwordOnly = Object.fromEntries(['classes', 'symbols', 'charset'].map((k) => [k, true]))
  const object: Schema = {
    type: 'object',
    required: ['type'],
    additionalProperties: false,
    properties: {
      type: {enum: [...GENERATOR_TYPES]},
      length: {type: 'integer', minimum: GENERATE_LENGTH.min, maximum: GENERATE_LENGTH.max},
      classes: {type: 'array', minItems: 1, items: {enum: [...PASSWORD_CLASSES]}},
      symbols: {type: 'string', pattern: '^[!-/:-@\\[-`{-~]+$'},
      charset: {type: 'string', minLength: 10, pattern: '^[!-~]+$'},
    },
    propertyNames: {enum: [...GENERATE_FIELDS]},
    allOf: [
      {if: {properties: {type: {const: 'uuid'}}}, then: {not: {required: ['length']}}},
      {
        if: {properties: {type: {not: {const: 'password'}}}},
        then: {not: {anyOf: Object.keys(passwordOnly).map((k) => ({required: [k]}))}},
      },
      {not: {required: ['classes', 'charset']}},
    ],
  }
  return {anyOf: [{enum: [...GENERATOR_TYPES]}, object]}
}

function envMap(): Schema {
  const entry = {
    anyOf: [
      reference,
      {
        type: 'object',
        required: ['ref'],
        additionalProperties: false,
        propertyNames: {enum: [...ENV_ENTRY_FIELDS]},
        properties: {
          ref: reference,
          params: entryParams,
          rotate: nullable({
            type: 'object',
            additionalProperties: false,
            propertyNames: {enum: [...ROTATE_FIELDS]},
            properties: {
              every: duration,
              generate: {$ref: '#/$defs/generate'},
              verify: {type: 'string', pattern: '\\S'},
            },
          }),
        },
      },
    ],
  }
  return nullable(mapping(entry, variableName))
}

function fileMap(): Schema {
  const common = {
    mode: {anyOf: [{type: 'string', pattern: '^0?[4-7]00$'}, {enum: [400, 500, 600, 700]}]},
    name: {type: 'string', pattern: FILE_NAME_PATTERN.source, maxLength: FILE_NAME_MAX},
  }
  const object = (source: Schema, required: string): Schema => ({
    type: 'object',
    required: [required],
    additionalProperties: false,
    propertyNames: {enum: [...FILE_ENTRY_FIELDS]},
    properties: {...source, ...common},
  })
  const entry = {
    anyOf: [
      reference,
      object({ref: reference, params: entryParams}, 'ref'),
      object({template: {type: 'string', minLength: 1}}, 'template'),
    ],
  }
  return nullable(mapping(entry, variableName))
}

/** The JSON Schema (draft 2020-12) of secrets.yaml, built from the validator's own definitions. */
export function configSchema(): Schema {
  const environment = {
    type: 'object',
    additionalProperties: false,
    propertyNames: {enum: [...ENVIRONMENT_FIELDS]},
    properties: {env: {$ref: '#/$defs/env'}, files: {$ref: '#/$defs/files'}},
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: SCHEMA_ID,
    title: 'secrets.yaml',
    description: 'Which providers exist and which variables come from where; never a secret value or a credential.',
    type: 'object',
    additionalProperties: false,
    propertyNames: {enum: [...TOP_LEVEL_FIELDS]},
    properties: {
      version: {const: 1},
      providers: nullable(mapping(provider(), {pattern: ALIAS_PATTERN.source})),
      env: {$ref: '#/$defs/env'},
      files: {$ref: '#/$defs/files'},
      environments: nullable(mapping(environment, {pattern: ENVIRONMENT_NAME_PATTERN.source})),
      cache: nullable({
        type: 'object',
        additionalProperties: false,
        propertyNames: {enum: [...CACHE_FIELDS]},
        properties: {maxAge: duration},
      }),
    },
    $defs: {
      settingName: {pattern: noneOf(CREDENTIAL_KEYS), description: 'credentials never go in secrets.yaml'},
      reference: {type: 'string', pattern: REFERENCE_PATTERN, description: 'alias://path[#field][?key=value&...]'},
      duration: {type: 'string', pattern: DURATION_PATTERN, description: 'e.g. 30d, 12h, 1w2d'},
      params: {
        type: 'object',
        minProperties: 1,
        propertyNames: {pattern: ENTRY_PARAM_NAME.source, allOf: [NOT_A_CREDENTIAL]},
        additionalProperties: {type: ['string', 'number', 'boolean']},
        description:
          'Vault only: the parameters of the write that issues a dynamic credential, e.g. {common_name: app.internal}',
      },
      generate: generate(),
      env: envMap(),
      files: fileMap(),
    },
  }
}
