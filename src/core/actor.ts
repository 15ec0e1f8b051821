import {hostname, userInfo} from 'node:os'

/** Who is acting: OS user, host and, in CI, the system and run id. */
export interface Actor {
  user: string
  host: string
  ci?: {system: string; runId?: string}
}

function osUser(): string {
  try {
    return userInfo().username
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? `uid:${process.getuid?.() ?? '?'}`
  }
}

/** Detect the CI system and its run id from the standard variables each one sets. */
export function detectCi(env: NodeJS.ProcessEnv): Actor['ci'] {
  if (env.GITHUB_ACTIONS === 'true')
    return {
      system: 'github-actions',
      runId: env.GITHUB_RUN_ID && `${env.GITHUB_RUN_ID}/${env.GITHUB_RUN_ATTEMPT ?? '1'}`,
    }
  if (env.GITLAB_CI) return {system: 'gitlab', runId: env.CI_JOB_ID ?? env.CI_PIPELINE_ID}
  if (env.CIRCLECI) return {system: 'circleci', runId: env.CIRCLE_WORKFLOW_JOB_ID ?? env.CIRCLE_BUILD_NUM}
  if (env.BUILDKITE) return {system: 'buildkite', runId: env.BUILDKITE_JOB_ID ?? env.BUILDKITE_BUILD_ID}
  if (env.JENKINS_URL) return {system: 'jenkins', runId: env.BUILD_TAG}
  if (env.TF_BUILD) return {system: 'azure-pipelines', runId: env.BUILD_BUILDID}
  if (env.CI && env.CI !== 'false' && env.CI !== '0') return {system: 'ci'}
  return undefined
}

export function currentActor(env: NodeJS.ProcessEnv = process.env): Actor {
  const ci = detectCi(env)
  return {user: osUser(), host: hostname(), ...(ci ? {ci} : {})}
}

/** The `user@host` label stored with each version in the local store. */
export function actorLabel(actor: Actor): string {
  return `${actor.user}@${actor.host}`
}
