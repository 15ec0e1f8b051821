import {readFileSync} from 'node:fs'

import {SecretsError, fsError} from '../../errors.js'
import type {Interaction} from '../interaction.js'
import {SecretValue} from '../secret-value.js'

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return Buffer.concat(chunks)
}

/**
 * Where a new value comes from, in order: a value on argv (accepted with a warning: it lands in shell
 * history and `ps`), `--from-file` (bytes exactly), piped stdin, or a hidden prompt on a terminal.
 * From stdin, one trailing newline is dropped from a single-line value (what `echo` adds); multiline
 * values are kept exactly.
 */
export async function readNewValue(o: {
  argvValue?: string
  fromFile?: string
  name: string
  ui: Interaction
  stdin?: NodeJS.ReadStream
}): Promise<SecretValue> {
  const stdin = o.stdin ?? process.stdin
  if (o.argvValue !== undefined && o.fromFile !== undefined) {
    throw new SecretsError('USAGE', 'Give the value either as an argument or with --from-file, not both.')
  }
  let bytes: Buffer
  if (o.argvValue !== undefined) {
    o.ui.warn(
      'A value given on the command line lands in your shell history and in the process list; pipe it on stdin or use --from-file instead.',
    )
    bytes = Buffer.from(o.argvValue, 'utf8')
  } else if (o.fromFile !== undefined) {
    try {
      bytes = readFileSync(o.fromFile)
    } catch (error) {
      throw fsError(error, o.fromFile, 'reading')
    }
  } else if (!stdin.isTTY) {
    bytes = await readAll(stdin)
    const text = bytes.toString('utf8')
    const single = text.replace(/\r?\n$/, '')
    if (!single.includes('\n') && Buffer.from(text, 'utf8').equals(bytes)) bytes = Buffer.from(single, 'utf8')
  } else if (o.ui.interactive) {
    bytes = Buffer.from(await o.ui.password(`Value for ${o.name}`), 'utf8')
  } else {
    throw new SecretsError('USAGE', `No value for ${o.name}: pipe it on stdin, or pass --from-file FILE.`)
  }
  if (bytes.length === 0) {
    throw new SecretsError('USAGE', `The value for ${o.name} is empty; nothing was written.`, {
      suggestions: ['Pipe the value on stdin (printf %s "$VALUE" | secrets set NAME) or pass --from-file FILE.'],
    })
  }
  return new SecretValue(bytes)
}
