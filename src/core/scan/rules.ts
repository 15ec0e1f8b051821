/**
 * The credential patterns `secrets scan` knows. Each rule has cheap anchors (plain substrings, looked up
 * with indexOf before any regular expression runs, so most files cost a few memchr-speed searches) and a
 * global regular expression whose group `secret` is the credential itself: only its position and a hash
 * of it are ever kept, never its text.
 */

/** One pattern rule (its id is stable: baselines and SARIF results refer to it). */
export interface PatternRule {
  id: string
  /** A short human name, used in messages. */
  name: string
  /** What it finds and what to do, for SARIF `help` and `--help`-like listings. */
  description: string
  /** Substrings of which at least one must be present for the regex to run; none means "always run". */
  anchors: string[]
  /** A global regex with a named group `secret` (the bytes that are the credential). */
  regex: RegExp
  /**
   * Found by the assignment pass (keyword-named variables, see assignments.ts) instead of by running
   * `regex` over the whole text; `regex` then documents what the pass matches.
   */
  assignment?: boolean
  /** Regex source for the shared prefilter, when the anchors are not plain strings. */
  prefilter?: string
  /** Extra test on the credential (entropy, character classes); false drops the match. */
  accept?: (secret: string, match: RegExpExecArray) => boolean
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(text: string): number {
  if (text.length === 0) return 0
  const counts = new Map<string, number>()
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1)
  let h = 0
  for (const n of counts.values()) {
    const p = n / text.length
    h -= p * Math.log2(p)
  }
  return h
}

/** Minimum entropy (bits per character) of a value assigned to a keyword-named variable. */
export const GENERIC_ENTROPY_THRESHOLD = 3.5
/** Hex strings can reach at most 4 bits per character, so they get a lower bar. */
export const HEX_ENTROPY_THRESHOLD = 3

const PLACEHOLDER =
  /^(?:x+|\*+|\.+|0+|1234.*|.*(?:example|changeme|placeholder|your[_-]|dummy|redacted|sample|<|>|\$\{|\{\{).*)$/i

/**
 * Code or prose, not a random value: a member access (process.env.API_KEY_2, config.auth.token1), a
 * CONSTANT_NAME, or lower-case words joined by - or _ with at most a short number (test-client-secret-1).
 */
const CODE_LIKE =
  /^(?:[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[a-z]{2,}(?:[-_][a-z]{2,})+(?:[-_]?\d{1,4})?)$/

/** Whether a value assigned to a keyword-named variable looks random enough to be a real secret. */
export function looksRandom(value: string): boolean {
  if (PLACEHOLDER.test(value) || CODE_LIKE.test(value)) return false
  if (!/\d/.test(value) || !/[A-Za-z]/.test(value)) return false
  const threshold = /^[0-9a-f]+$/i.test(value) ? HEX_ENTROPY_THRESHOLD : GENERIC_ENTROPY_THRESHOLD
  return shannonEntropy(value) >= threshold
}

/** Base62 tokens (Vault's legacy `s.` tokens) mix upper case, lower case and digits. */
function mixedAlnum(value: string): boolean {
  return /[a-z]/.test(value) && /[A-Z]/.test(value) && /\d/.test(value)
}

/** Names of variables that hold secrets (every alternative contains one of ASSIGNMENT_STEMS). */
export const KEYWORDS =
  'secret|passw(?:or)?d|pwd|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|auth[_-]?key|signing[_-]?key|encryption[_-]?key'

/** Lower-case substrings that every KEYWORDS alternative contains: the assignment pass looks for these. */
export const ASSIGNMENT_STEMS = ['secret', 'passw', 'pwd', 'token', 'key', 'credential'] as const

export const PATTERN_RULES: readonly PatternRule[] = [
  {
    id: 'aws-access-key-id',
    name: 'AWS access key ID',
    description:
      'An AWS access key ID (AKIA... long-term, ASIA... temporary). Deactivate the key in IAM and load credentials from the environment or a role instead.',
    anchors: ['AKIA', 'ASIA'],
    regex: /(?<![A-Z0-9])(?<secret>(?:AKIA|ASIA)[A-Z2-7]{16})(?![A-Z0-9])/g,
  },
  {
    id: 'aws-secret-access-key',
    name: 'AWS secret access key',
    description:
      'A 40-character AWS secret access key assigned to an aws...secret...key variable. Rotate it in IAM and reference it through secrets.yaml instead.',
    anchors: [],
    assignment: true,
    regex:
      /aws[\w.-]{0,20}?secret[\w.-]{0,20}?["']?\s*(?::=|=>|=|:)\s*["'`]?(?<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi,
    accept: (s) => looksRandom(s),
  },
  {
    id: 'private-key',
    name: 'private key',
    description:
      'A PEM private key block (RSA, EC, DSA, OpenSSH, PKCS#8, PGP). Replace the key pair and keep the private key in a secret store (a `files:` entry for `secrets exec`).',
    anchors: ['-----BEGIN'],
    regex: /(?<secret>-----BEGIN[ A-Z0-9]{0,20}PRIVATE KEY(?: BLOCK)?-----[^-]{0,200}?[A-Za-z0-9+/=]{40,})/g,
  },
  {
    id: 'age-secret-key',
    name: 'age identity',
    description:
      'An age secret key (AGE-SECRET-KEY-1...), which decrypts everything encrypted to its recipient. Remove the recipient (`secrets key remove`) and make a new identity.',
    anchors: ['AGE-SECRET-KEY-1'],
    regex: /(?<secret>AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58})(?![0-9A-Z])/g,
  },
  {
    id: 'jwt',
    name: 'JSON Web Token',
    description:
      'A signed JSON Web Token (header.payload.signature). Tokens often stay valid for a long time: revoke it or rotate the signing key.',
    anchors: ['eyJ'],
    regex: /(?<![\w-])(?<secret>eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,})(?![\w-])/g,
  },
  {
    id: 'vault-token',
    name: 'HashiCorp Vault token',
    description:
      'A Vault service, batch or recovery token (hvs., hvb., hvr., or a legacy s. token). Revoke it (`vault token revoke`) and let `secrets` log in through an auth method.',
    anchors: ['hvs.', 'hvb.', 'hvr.', 's.'],
    prefilter: '(?<![\\w.-])(?:hv[sbr]|s)\\.[A-Za-z0-9_-]{24}',
    regex: /(?<![\w.-])(?<secret>hv[sbr]\.[A-Za-z0-9_-]{24,}|s\.[A-Za-z0-9]{24})(?![\w-])/g,
    accept: (s) => !s.startsWith('s.') || mixedAlnum(s.slice(2)),
  },
  {
    id: 'azure-storage-connection-string',
    name: 'Azure Storage account key',
    description:
      'An Azure Storage connection string or account key (AccountKey=...). Rotate the key in the storage account and use a managed identity or a Key Vault reference.',
    anchors: ['AccountKey='],
    regex: /AccountKey=(?<secret>[A-Za-z0-9+/]{40,}={0,2})/g,
  },
  {
    id: 'azure-service-bus-connection-string',
    name: 'Azure Service Bus / Event Hubs key',
    description:
      'A shared access key in an Azure Service Bus or Event Hubs connection string (SharedAccessKey=...). Regenerate the key of that policy.',
    anchors: ['SharedAccessKey='],
    regex: /SharedAccessKey=(?<secret>[A-Za-z0-9+/]{20,}={0,2})/g,
  },
  {
    id: 'azure-client-secret',
    name: 'Azure AD client secret',
    description:
      'A Microsoft Entra ID (Azure AD) application client secret (xxxNQ~...). Delete it from the app registration and use a certificate, workload identity or a Key Vault reference.',
    anchors: ['Q~'],
    regex: /(?<![\w~.-])(?<secret>[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?![\w~.-])/g,
  },
  {
    id: 'github-token',
    name: 'GitHub token',
    description:
      'A GitHub personal access, OAuth, app or refresh token (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_). Revoke it in GitHub settings.',
    anchors: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
    regex: /(?<![\w])(?<secret>gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})(?![\w])/g,
  },
  {
    id: 'generic-secret-assignment',
    name: 'high-entropy secret assignment',
    description: `A random-looking value (Shannon entropy of at least ${GENERIC_ENTROPY_THRESHOLD} bits per character, ${HEX_ENTROPY_THRESHOLD} for hex, with letters and digits, 16 characters or more) assigned to a variable named like a secret (password, token, api_key, secret...). Move it to the secret store and reference it from secrets.yaml.`,
    anchors: [],
    assignment: true,
    regex: new RegExp(
      `(?<name>[A-Za-z0-9_.-]*(?:${KEYWORDS})[A-Za-z0-9_.-]*)["'\\]]?\\s*(?::=|=>|==|=|:)\\s*(?<quote>["'\`]?)(?<secret>[A-Za-z0-9+/=_~!@#$%^&*.-]{16,256})\\k<quote>(?![A-Za-z0-9+/=_~!@#$%^&*.-])`,
      'gi',
    ),
    accept: (s, m) => !(m.groups?.name ?? '').includes('://') && looksRandom(s),
  },
]

/** The rule id for a configured secret's exact value. */
export const CONFIGURED_VALUE_RULE = {
  id: 'configured-secret-value',
  name: 'configured secret value',
  description:
    'The exact value of a secret that secrets.yaml references (compared by keyed hash, never printed). Remove it from the file, reference the variable instead, and rotate the secret if the file was ever committed or shared.',
} as const

/** Every rule id with its name and description, configured values first (for SARIF `rules`). */
export const ALL_RULES: ReadonlyArray<{id: string; name: string; description: string}> = [
  CONFIGURED_VALUE_RULE,
  ...PATTERN_RULES,
]
