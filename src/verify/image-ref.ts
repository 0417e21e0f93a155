// Image references as the `image` input takes them: `repo:tag` or `repo@sha256:<hex>` (or both),
// optionally after the registry's login server, one a line. The grammar is the distribution
// project's reference grammar (distribution/reference, reference.go): path components of lower-case
// letters and digits joined by `.`, `_`, `__` or dashes; a tag of at most 128 word characters,
// dots and dashes not starting with either; a digest `algorithm:hex` (sha256: 64 hex digits,
// sha512: 128, as the OCI image spec registers them). A first component with a `.` or a `:`, or
// `localhost`, is a host (the rule docker and the kubelet use to tell a host from a repository).
// Pure: no I/O.

export interface ImageRef {
  /** the repository path, e.g. app/web */
  repository: string;
  tag?: string;
  /** sha256:<64 hex> or sha512:<128 hex> */
  digest?: string;
  /** the login server as written (host[:port], lower case), when one was */
  host?: string;
}

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
const HOST = /^(?:localhost|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)(?::\d{1,5})?$/;

export const IMAGE_FORM =
  'one image a line, as repository:tag or repository@sha256:<64 hex digits> (e.g. app/web:v1), optionally after the login server (myregistry.azurecr.io/app/web:v1)';

/** The reference, or what is wrong with it (for the input's error). */
export function parseImageRef(raw: string): ImageRef | { problem: string } {
  const v = raw.trim();
  if (!v) return { problem: 'is empty' };
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(v)) return { problem: 'contains white space or a control character' };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) return { problem: 'has a URL scheme; give the reference without it' };
  let rest = v;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return { problem: `has a digest '${digest.slice(0, 80)}' that is not sha256:<64 lower-case hex digits>` };
  }
  let host: string | undefined;
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      host = first.toLowerCase();
      if (!HOST.test(host)) return { problem: `has a login server '${first}' that is not a host name` };
      rest = rest.slice(slash + 1);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return { problem: `has a tag '${tag.slice(0, 80)}' that is not 1-128 letters, digits, _ . - (not starting with . or -)` };
  }
  if (!REPOSITORY.test(rest)) {
    return {
      problem: /[A-Z]/.test(rest)
        ? `has a repository '${rest.slice(0, 80)}' with upper-case letters (repositories are lower case)`
        : `has a repository '${rest.slice(0, 80)}' that is not lower-case path components (letters and digits joined by . _ -)`,
    };
  }
  if (!tag && !digest) return { problem: 'names neither a tag nor a digest' };
  return { repository: rest, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}), ...(host ? { host } : {}) };
}

/** The reference a registry resolves: the digest when given, else the tag. */
export const referenceOf = (i: ImageRef): string => i.digest ?? i.tag!;

/** `repo:tag`, `repo@digest` or `repo:tag@digest`, without the login server. */
export const shortRef = (i: ImageRef): string => `${i.repository}${i.tag ? `:${i.tag}` : ''}${i.digest ? `@${i.digest}` : ''}`;

/** The full reference under `loginServer`, as a Pod's `image` field takes it. */
export const fullRef = (i: ImageRef, loginServer: string): string => `${loginServer}/${shortRef(i)}`;

const hostOnly = (h: string) => h.toLowerCase().replace(/:\d+$/, '');

/**
 * Does the login server written in the image name the registry? Exact when both carry a port;
 * else by host name alone (a login server is written without its default port).
 */
export function sameRegistryHost(written: string, loginServer: string): boolean {
  const a = written.toLowerCase();
  const b = loginServer.toLowerCase();
  if (a === b) return true;
  if (/:\d+$/.test(a) && /:\d+$/.test(b)) return false;
  return hostOnly(a) === hostOnly(b);
}
