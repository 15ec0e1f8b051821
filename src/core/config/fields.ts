// The fields of secrets.yaml, shared by the validator (validate.ts) and the JSON Schema (schema.ts), so
// the two cannot disagree on what a section may hold.

export const TOP_LEVEL_FIELDS = ['version', 'providers', 'env', 'files', 'environments', 'cache'] as const
export const ENV_ENTRY_FIELDS = ['ref', 'rotate', 'params'] as const
export const FILE_ENTRY_FIELDS = ['ref', 'template', 'mode', 'name', 'params'] as const
/** The names under an entry's `params:` (a Vault request's field names). */
export const ENTRY_PARAM_NAME = /^[a-z][a-z0-9_]*$/
export const ENVIRONMENT_FIELDS = ['env', 'files'] as const
export const CACHE_FIELDS = ['maxAge'] as const
export const ROTATE_FIELDS = ['every', 'generate', 'verify'] as const
export const GENERATE_FIELDS = ['type', 'length', 'classes', 'symbols', 'charset'] as const

/** Environment names: letters, digits, "_", "." and "-". */
export const ENVIRONMENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/
/** A `files:` entry's `name:`: a plain file name, at most 255 characters. */
export const FILE_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/
export const FILE_NAME_MAX = 255
/** A generated password's length, and a byte count for the other generators. */
export const GENERATE_LENGTH = {min: 8, max: 4096} as const

/** Setting names that would hold a credential; they belong in the environment, never in the file. */
export const CREDENTIAL_KEYS = new Set([
  'token',
  'password',
  'passphrase',
  'secret',
  'secretid',
  'roleid',
  'secretaccesskey',
  'accesskeyid',
  'sessiontoken',
  'clientsecret',
  'apikey',
  'privatekey',
  'key',
  'identity',
  'credentials',
])
