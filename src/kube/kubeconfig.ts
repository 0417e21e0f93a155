// Finds and checks the kubeconfig before any network call: the file exists, parses, and has the
// context to use. The Kubernetes client loads it later from the same text.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { InputError } from '../errors.ts';

export interface KubeconfigSource {
  /** the kubeconfig text */
  text: string;
  /** where it came from, for messages */
  origin: string;
  /** the context to use */
  context: string;
}

const ACCEPTED = 'a path to a kubeconfig file, or the kubeconfig itself (YAML)';

export function resolveKubeconfig(
  input: string | undefined,
  contextInput: string | undefined,
  env: Record<string, string | undefined>,
): KubeconfigSource {
  let text: string;
  let origin: string;
  let inputName = 'kubeconfig';
  if (input && /(^|\n)\s*(apiVersion|clusters|contexts)\s*:/.test(input)) {
    text = input;
    origin = 'the kubeconfig input';
  } else {
    const path = input ?? env.KUBECONFIG?.split(':').find((p) => p) ?? join(env.HOME ?? homedir(), '.kube', 'config');
    if (!input) inputName = 'kubeconfig';
    if (/[\r\n]/.test(path)) throw new InputError(inputName, 'is neither a kubeconfig nor a path', ACCEPTED);
    if (!existsSync(path)) {
      throw new InputError(inputName, `the file '${path}' does not exist${input ? '' : ' (from KUBECONFIG or ~/.kube/config)'}`, ACCEPTED);
    }
    text = readFileSync(path, 'utf8');
    origin = path;
  }
  let doc: unknown;
  try {
    doc = load(text);
  } catch {
    throw new InputError(inputName, `${origin} is not valid YAML`, ACCEPTED);
  }
  const cfg = doc as { contexts?: { name?: string }[]; 'current-context'?: string; clusters?: unknown[] } | null;
  if (!cfg || typeof cfg !== 'object' || !Array.isArray(cfg.clusters) || !Array.isArray(cfg.contexts)) {
    throw new InputError(inputName, `${origin} has no clusters or contexts`, ACCEPTED);
  }
  const names = cfg.contexts.map((c) => c?.name).filter((n): n is string => typeof n === 'string');
  const context = contextInput ?? cfg['current-context'];
  if (!context) {
    throw new InputError('kube-context', `${origin} has no current context`, `one of its contexts: ${names.join(', ') || '(none)'}`);
  }
  if (!names.includes(context)) {
    throw new InputError('kube-context', `context '${context}' is not in ${origin}`, `one of: ${names.join(', ') || '(none)'}`);
  }
  return { text, origin, context };
}
