import type {Interaction} from '../core/interaction.js'
import {SecretsError} from '../errors.js'

/**
 * How one command confirms a change. Today's commands differ in what they do without a terminal;
 * the difference is this parameter, not a copy of the code (a later issue unifies the policy).
 */
export interface ConfirmPolicy {
  /** --yes: go ahead without asking. */
  yes: boolean | undefined
  /** The yes/no question asked on a terminal (default answer: no). */
  question: string
  /** The ABORTED message when the answer is no. */
  declined: string
  /**
   * Without a terminal (or with CI set): `refuse` names what would have happened ("delete X") and the
   * suggestion (naming --yes); `proceed` goes ahead as if confirmed (rotate and rollback today).
   */
  withoutTerminal: 'proceed' | {refuse: string; suggestion: string}
}

/** Ask on a terminal; otherwise require --yes, or go ahead, as the command's policy says. */
export async function confirmOrRefuse(ui: Interaction, policy: ConfirmPolicy): Promise<void> {
  if (policy.yes) return
  if (!ui.interactive) {
    if (policy.withoutTerminal === 'proceed') return
    throw new SecretsError(
      'USAGE',
      `Refusing to ${policy.withoutTerminal.refuse} without confirmation: there is no terminal to ask on (or CI is set).`,
      {suggestions: [policy.withoutTerminal.suggestion]},
    )
  }
  if (!(await ui.confirm(policy.question, false))) throw new SecretsError('ABORTED', policy.declined)
}
