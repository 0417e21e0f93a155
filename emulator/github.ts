// GitHub Actions' OIDC token endpoint (what ACTIONS_ID_TOKEN_REQUEST_URL points at on a runner).
import { randomUUID } from 'node:crypto';
import { GITHUB_ISSUER, GITHUB_RUNTIME_TOKEN } from './ids.ts';
import type { RouteHandler, Service } from './routes.ts';

export const OIDC_TOKEN_PATH = '/_github/oidc/token';
export const OIDC_TOKEN_LIFETIME_S = 300;

let issued = 0;

const oidcToken: RouteHandler = (req, ctx) => {
  if (req.bearer !== GITHUB_RUNTIME_TOKEN) {
    return { status: 401, body: { message: 'Bad credentials: the ACTIONS_ID_TOKEN_REQUEST_TOKEN is missing or invalid' } };
  }
  const oidc = ctx.state.githubOidc;
  if (!oidc.enabled) {
    return {
      status: 403,
      body: { message: "The workflow does not have the 'id-token: write' permission; this runner may not request OIDC tokens." },
    };
  }
  const repository = oidc.repository;
  const owner = repository.split('/')[0] || 'contoso';
  const audience = req.query.get('audience') || `https://github.com/${owner}`;
  const iat = Math.floor(ctx.now().getTime() / 1000);
  const refMatch = /:ref:(.+)$/.exec(oidc.subject);
  const ref = refMatch?.[1] ?? 'refs/heads/main';
  const value = ctx.signJwt({
    jti: randomUUID(),
    sub: oidc.subject,
    aud: audience,
    ref,
    sha: '0000000000000000000000000000000000000000',
    repository,
    repository_owner: owner,
    repository_visibility: 'private',
    run_id: '1',
    run_number: '1',
    run_attempt: '1',
    actor: owner,
    workflow: 'deploy',
    event_name: 'push',
    ref_type: 'branch',
    job_workflow_ref: `${repository}/.github/workflows/deploy.yml@${ref}`,
    runner_environment: 'github-hosted',
    iss: GITHUB_ISSUER,
    nbf: iat - 5,
    iat,
    exp: iat + OIDC_TOKEN_LIFETIME_S,
  });
  issued += 1;
  return { status: 200, body: { count: issued, value } };
};

export const githubService: Service = {
  name: 'github',
  owns: (req) => req.path.startsWith('/_github/'),
  routes: [{ path: OIDC_TOKEN_PATH, GET: oidcToken, POST: oidcToken, ANY: () => ({ status: 405, body: { message: 'Method not allowed' } }) }],
  // what a runner gives a job with `id-token: write`
  env: (host) => ({
    ACTIONS_ID_TOKEN_REQUEST_URL: `${host.url}${OIDC_TOKEN_PATH}?api-version=2.0`,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: GITHUB_RUNTIME_TOKEN,
  }),
};
