// Where a write comes from: the workflow run this step is part of, read from @actions/github's
// `context` (the runner's GITHUB_* variables), and how each object the action writes records it:
// an annotation on Secrets, Namespaces and service-account changes, a sentence in a role
// assignment's description, a link in the job summary. Only `context` is imported: the build marks
// @actions/* side-effect free (build/bundle.mjs), so @actions/github's octokit half
// (lib/utils.js and @octokit/*) is in no bundle file (__tests__/build.test.ts checks).
import { context } from '@actions/github';

/** The annotation on Secrets, Namespaces and service accounts the action writes: JSON of the Provenance of the run that wrote it last. */
export const PROVENANCE_ANNOTATION = 'acr-kube-auth.github.io/written-by';

/** The workflow run that made a write. */
export interface Provenance {
  /** owner/name */
  repository: string;
  /** the workflow's name */
  workflow?: string;
  runId: string;
  runAttempt?: string;
  /** the commit the run is for */
  sha?: string;
  /** https://github.com/owner/name/actions/runs/ID/attempts/N */
  runUrl: string;
}

const id = (n: number) => (Number.isSafeInteger(n) && n > 0 ? String(n) : undefined);

/**
 * The workflow run this step is part of; undefined outside one (no GITHUB_REPOSITORY or
 * GITHUB_RUN_ID, e.g. a local run), when nothing is recorded.
 */
export function provenance(): Provenance | undefined {
  const runId = id(context.runId);
  if (!runId || !/^[^/\s]+\/[^/\s]+$/.test(process.env.GITHUB_REPOSITORY ?? '')) return undefined;
  const { owner, repo } = context.repo; // GITHUB_REPOSITORY, as checked above
  const repository = `${owner}/${repo}`;
  const runAttempt = id(context.runAttempt);
  const server = /^https:\/\/[^/?#\s]+$/i.test(context.serverUrl) ? context.serverUrl : 'https://github.com';
  const runUrl = `${server}/${repository}/actions/runs/${runId}${runAttempt ? `/attempts/${runAttempt}` : ''}`;
  return {
    repository,
    ...(context.workflow ? { workflow: context.workflow } : {}),
    runId,
    ...(runAttempt ? { runAttempt } : {}),
    ...(context.sha ? { sha: context.sha } : {}),
    runUrl,
  };
}

/** The annotations a written object gets (none outside a workflow run). Pure. */
export function provenanceAnnotations(p: Provenance | undefined): Record<string, string> {
  if (!p) return {};
  const ordered = { repository: p.repository, workflow: p.workflow, runId: p.runId, runAttempt: p.runAttempt, sha: p.sha, runUrl: p.runUrl };
  return { [PROVENANCE_ANNOTATION]: JSON.stringify(ordered) };
}

/**
 * A role assignment's description: what it is for (`purpose`), then the run that wrote it. ARM
 * documents no length limit for it (Microsoft.Authorization 2022-04-01, RoleAssignmentProperties);
 * it is kept under 1,024 characters all the same. Pure.
 */
export function describedWrite(purpose: string, p: Provenance | undefined): string {
  if (!p) return purpose;
  const workflow = p.workflow ? ` workflow '${p.workflow.slice(0, 200)}'` : '';
  const attempt = p.runAttempt ? ` attempt ${p.runAttempt}` : '';
  const commit = p.sha ? ` at commit ${p.sha.slice(0, 40)}` : '';
  return `${purpose}; written by ${p.repository}${workflow} run ${p.runId}${attempt}${commit} (${p.runUrl})`.slice(0, 1024);
}
