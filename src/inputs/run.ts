// The run section: operation, dry-run and max-parallel.
import { InputError } from '../errors.ts';
import type { Operation } from '../settings.ts';
import { bool, choice, clip, type GetInput } from './fields.ts';

export interface RunSection {
  operation: Operation;
  dryRun: boolean;
  maxParallel: number;
}

export function readRun(get: GetInput): RunSection {
  const operation = choice<Operation>(get, 'operation', ['attach', 'detach', 'verify'], 'attach');
  const dryRun = bool(get, 'dry-run', false);
  const maxParallelRaw = get('max-parallel').trim() || '8';
  if (!/^\d{1,3}$/.test(maxParallelRaw) || Number(maxParallelRaw) < 1 || Number(maxParallelRaw) > 64) {
    throw new InputError('max-parallel', `'${clip(maxParallelRaw)}' is out of range`, 'a whole number from 1 to 64');
  }
  return { operation, dryRun, maxParallel: Number(maxParallelRaw) };
}
