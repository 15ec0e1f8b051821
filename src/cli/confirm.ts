import type {Interaction} from '../core/interaction.js'
import {SecretsError} from '../errors.js'

/**
 * How a command that changes or deletes confirms it. The policy is the same everywhere: ask on a
 * terminal (default answer: no); without one (or with CI set) refuse unless --yes was given. --yes
 * always means "go ahead without asking", nothing more.
 */
export interface ConfirmPolicy {
  /** --yes: go ahead without asking. */
  yes: boolean | undefined
  /** The yes/no question asked on a terminal (default answer: no). */
  question: string
  /** The ABORTED message when the answer is no. */
  declined: string
  /** Without a terminal: what would have happened ("delete X"), and the suggestion (default: pass --yes). */
  withoutTerminal: {refuse: string; suggestion?: string}
}

/** Ask on a terminal; otherwise require --yes. */
export async function confirmOrRefuse(ui: Interaction, policy: ConfirmPolicy): Promise<void> {
  if (policy.yes) return
  if (!ui.interactive) {
    throw new SecretsError(
      'USAGE',
      `Refusing to ${policy.withoutTerminal.refuse} without confirmation: there is no terminal to ask on (or CI is set).`,
      {suggestions: [policy.withoutTerminal.suggestion ?? 'Pass --yes to confirm.']},
    )
  }
  if (!(await ui.confirm(policy.question, false))) throw new SecretsError('ABORTED', policy.declined)
}
