/**
 * The code that loads only when a flag or secrets.yaml asks for it: templates, the offline fallback
 * cache and encrypted environment files. Every lazy `await import()` of them goes through this one
 * module, so the bundler gives them one chunk of their own and leaves the chunks on `exec`'s path as
 * they were: a run that uses none of these features loads not one byte more.
 */
export {readEncryptedEnv, writeEncryptedEnv} from './store/encrypted-env.js'
export {applyFallback, offlineError} from './sync/fallback.js'
export {prepareTemplates} from './exec/template.js'
export {unknownOnly} from './suggest.js'
