/**
 * Names a local secret may hold but that are never injected under their own name. A store can be
 * replaced by anyone who can write its file (see docs/store.md, threat model), so the implicit
 * "every store name is a variable" rule must not reach variables that make a child load or run code
 * chosen by whoever wrote the store. Such a variable reaches a child only through an explicit `env:`
 * entry in the reviewed, plain-text secrets.yaml.
 *
 * Sources: glibc's list of variables removed for setuid programs (sysdeps/generic/unsecvars.h), dyld's
 * DYLD_* family, and each runtime's documented start-up hooks (shells, Node.js, Python, Perl, Ruby,
 * the JVM, .NET, Erlang, PHP, Lua, Tcl, R, Go, Rust, git, OpenSSL, pagers and editors).
 */
export const CODE_LOADING_NAMES: readonly string[] = [
  // Dynamic linkers and libc (glibc unsecvars.h; the LD_ and DYLD_ families are prefixes below).
  'GCONV_PATH',
  'GETCONF_DIR',
  'GLIBC_TUNABLES',
  'HOSTALIASES',
  'LOCALDOMAIN',
  'LOCPATH',
  'MALLOC_TRACE',
  'NIS_PATH',
  'NLSPATH',
  'RESOLV_HOST_CONF',
  'RES_OPTIONS',
  'TZDIR',
  // Where programs and start-up files are found.
  'PATH',
  'HOME',
  'ZDOTDIR',
  'XDG_CONFIG_HOME',
  'XDG_CONFIG_DIRS',
  'XDG_DATA_DIRS',
  'INPUTRC',
  // Shells: files sourced at start, options, prompts and hooks that are evaluated.
  'ENV',
  'BASH_ENV',
  'BASHOPTS',
  'SHELLOPTS',
  'SHELL',
  'IFS',
  'CDPATH',
  'PROMPT_COMMAND',
  'PS1',
  'PS2',
  'PS3',
  'PS4',
  // Node.js, npm, Electron.
  'NODE_OPTIONS',
  'NODE_PATH',
  'NODE_REPL_EXTERNAL_MODULE',
  'ELECTRON_RUN_AS_NODE',
  // The JVM.
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
  'JDK_JAVA_OPTIONS',
  'JAVA_OPTS',
  'JAVA_HOME',
  'CLASSPATH',
  // .NET.
  'DOTNET_STARTUP_HOOKS',
  'DOTNET_ADDITIONAL_DEPS',
  'CORECLR_ENABLE_PROFILING',
  'CORECLR_PROFILER',
  'CORECLR_PROFILER_PATH',
  'COR_ENABLE_PROFILING',
  'COR_PROFILER',
  'COR_PROFILER_PATH',
  // Erlang and Elixir.
  'ERL_FLAGS',
  'ERL_AFLAGS',
  'ERL_ZFLAGS',
  'ERL_LIBS',
  'ELIXIR_ERL_OPTIONS',
  // PHP, Lua, Tcl, R.
  'PHPRC',
  'PHP_INI_SCAN_DIR',
  'LUA_INIT',
  'LUA_PATH',
  'LUA_CPATH',
  'TCLLIBPATH',
  'R_PROFILE',
  'R_PROFILE_USER',
  'R_ENVIRON',
  'R_ENVIRON_USER',
  'R_LIBS',
  'R_LIBS_USER',
  // Go and Rust toolchains (wrappers and flags that run other programs).
  'GOFLAGS',
  'GOENV',
  'GOTOOLCHAIN',
  'RUSTC',
  'RUSTC_WRAPPER',
  'RUSTC_WORKSPACE_WRAPPER',
  'RUSTFLAGS',
  // git, ssh and helpers that git and other tools run.
  'GIT_SSH',
  'GIT_SSH_COMMAND',
  'GIT_EXEC_PATH',
  'GIT_ASKPASS',
  'GIT_EDITOR',
  'GIT_PAGER',
  'GIT_EXTERNAL_DIFF',
  'GIT_PROXY_COMMAND',
  'GIT_TEMPLATE_DIR',
  'GIT_CONFIG',
  'GIT_CONFIG_GLOBAL',
  'GIT_CONFIG_SYSTEM',
  'GIT_CONFIG_PARAMETERS',
  'SSH_ASKPASS',
  'SUDO_ASKPASS',
  'EDITOR',
  'VISUAL',
  'PAGER',
  'MANPAGER',
  'LESSOPEN',
  'LESSCLOSE',
  'BROWSER',
  // OpenSSL loads engines and providers named by its configuration.
  'OPENSSL_CONF',
  'OPENSSL_ENGINES',
  'OPENSSL_MODULES',
  // Plugin search paths of GUI and media libraries.
  'GTK_MODULES',
  'GTK_PATH',
  'GIO_EXTRA_MODULES',
  'QT_PLUGIN_PATH',
  'GST_PLUGIN_PATH',
  'LIBGL_DRIVERS_PATH',
  'VK_ICD_FILENAMES',
  'VK_LAYER_PATH',
]

/** Families matched by prefix: every variable that starts with one of these. */
export const CODE_LOADING_PREFIXES: readonly string[] = [
  'LD_', // the dynamic linker: LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT ...
  'DYLD_', // macOS dyld: DYLD_INSERT_LIBRARIES, DYLD_LIBRARY_PATH ...
  'BASH_FUNC_', // exported bash functions, run when their name is called
  'PYTHON', // PYTHONPATH, PYTHONSTARTUP, PYTHONHOME, PYTHONBREAKPOINT, PYTHONWARNINGS ...
  'PERL', // PERL5OPT, PERL5LIB, PERLLIB, PERL5DB ...
  'RUBY', // RUBYOPT, RUBYLIB ...
  'GEM_', // GEM_HOME, GEM_PATH: where Ruby loads gems from
  'NPM_CONFIG_', // npm settings, among them script-shell and node-options
  'LUA_INIT_', // LUA_INIT_5_4 ...
]

const exact = new Set(CODE_LOADING_NAMES)

/**
 * Whether `name` changes how programs load or run code. Compared without case: Windows environment
 * names are case-insensitive, and npm reads `npm_config_*` in lower case.
 */
export function isCodeLoadingName(name: string): boolean {
  const upper = name.toUpperCase()
  return exact.has(upper) || CODE_LOADING_PREFIXES.some((p) => upper.startsWith(p))
}

/** Names that configure secrets itself (`SECRETS_IDENTITY`, `SECRETS_AGE_KEY` ...): never a secret's variable. */
export function isReservedName(name: string): boolean {
  return name.startsWith('SECRETS_')
}
