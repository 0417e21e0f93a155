// AKS scenarios (managed-identity, service-principal): see issues #4 and #5.
import type { Settings } from '../settings.ts';
import type { Deps } from '../deps.ts';
import type { Result } from '../result.ts';
import { InputError } from '../errors.ts';

export async function runAks(settings: Settings, _deps: Deps): Promise<Result> {
  throw new InputError('auth-method', `'${settings.authMethod}' on AKS is not available in this build`, 'pull-secret');
}
