/**
 * What core needs from the user interface. Commands supply an implementation (prompts on a TTY,
 * failures naming the flag to pass otherwise), so core never imports a UI library.
 */
export interface Interaction {
  /** True only when prompting is possible (stdin and stdout are terminals, not CI). */
  readonly interactive: boolean
  /**
   * Ask for a hidden value. Must not be called when not interactive. `why` says why it is asked again (a
   * weak or wrong passphrase): shown before the prompt as a warning, even when warnings are quiet
   * (`--json`), since whoever sees the prompt needs the reason.
   */
  password(message: string, why?: string): Promise<string>
  confirm(message: string, defaultValue: boolean): Promise<boolean>
  input(message: string, defaultValue: string): Promise<string>
  /** A warning line on stderr. */
  warn(message: string): void
  /** A note on stderr (what secrets is doing, e.g. restarting a child); quiet with --json. */
  info(message: string): void
  /** Show progress for work that may take a while. */
  progress<T>(label: string, work: () => Promise<T>): Promise<T>
}

/** An Interaction for library use and tests: never prompts, collects warnings. */
export function nonInteractive(warnings: string[] = []): Interaction {
  const refuse = async (): Promise<never> => {
    throw new Error('prompt requested without a TTY')
  }
  return {
    interactive: false,
    password: refuse,
    confirm: refuse,
    input: refuse,
    warn: (m) => warnings.push(m),
    info: () => undefined,
    progress: (_label, work) => work(),
  }
}
