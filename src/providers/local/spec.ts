import {defineProvider} from '../spec.js'

/** The embedded local store: one age-encrypted file in the project. */
export const localSpec = defineProvider({
  kind: 'local',
  title: 'the local encrypted store',
  settings: {path: 'string', inject: 'boolean'},
  credentialHint: 'SECRETS_AGE_KEY, SECRETS_IDENTITY or SECRETS_PASSPHRASE',
  keyServices: [],
  sdkPackages: [],
  docs: 'docs/providers/local.md',
})
