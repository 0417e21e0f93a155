// credential-type: service-principal (not implemented yet; see issue #3).
import type { SourceFactory } from './credentials.ts';
import { InputError } from '../../errors.ts';

const factory: SourceFactory = async () => {
  throw new InputError('credential-type', "'service-principal' is not available in this build", 'basic');
};
export default factory;
