// The grant section: role and repositories (what a pull role, token or condition is limited to).
import { InputError } from '../errors.ts';
import { GUID, clip, list, noControl, type GetInput } from './fields.ts';

// ACR repository paths (docker distribution grammar, lower case), with `*` wildcards as ACR allows
// them: a trailing `/*` or a whole `*`.
const REPO_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY = new RegExp(`^(?:\\*|${REPO_COMPONENT}(?:/${REPO_COMPONENT})*(?:/\\*)?)$`);
const ROLE_DEF_ID = /^(\/subscriptions\/[0-9a-f-]{36})?\/providers\/Microsoft\.Authorization\/roleDefinitions\/([0-9a-f-]{36})$/i;
const ROLE_NAME = /^[A-Za-z][A-Za-z0-9 ._()-]{1,127}$/;

export interface GrantSection {
  /** 'auto', a role definition GUID, or a role name */
  role: string;
  repositories: string[];
}

function parseRole(raw: string): string {
  const v = raw.trim();
  if (v === '' || v.toLowerCase() === 'auto') return 'auto';
  noControl('role', v);
  if (GUID.test(v)) return v.toLowerCase();
  const id = ROLE_DEF_ID.exec(v);
  if (id) return id[2].toLowerCase();
  if (ROLE_NAME.test(v)) return v;
  throw new InputError('role', `'${clip(v)}' is not a role`, '`auto`, a role name such as AcrPull, or a role definition id (GUID)');
}

export function readGrant(get: GetInput): GrantSection {
  const role = parseRole(get('role'));
  const repositories = list(get('repositories'));
  for (const r of repositories) {
    if (!REPOSITORY.test(r)) {
      throw new InputError(
        'repositories',
        `'${clip(r)}' is not a repository`,
        'lower-case repository paths such as app/web, with `*` wildcards as ACR allows (app/*), one a line',
      );
    }
  }
  return { role, repositories };
}
