// @dotenvx/primitives ships no types; these are the two functions secrets calls (see its README's API table).
declare module '@dotenvx/primitives' {
  /** Decrypt an `encrypted:...` value with a hex secp256k1 private key; throws with a `code` on failure. */
  export function decrypt(privateKey: string, value: string): string
  /** Encrypt a value for a hex compressed public key (tests make dotenvx files with it). */
  export function encrypt(publicKey: string, value: string): string
  /** A new key pair, hex. */
  export function keypair(): {publicKey: string; privateKey: string}
}
