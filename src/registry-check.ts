// Renamed to registry-login.ts (the docker-login-style credential check). This re-export keeps
// the pull-secret sources' imports working until their restructuring (another branch) imports
// registry-login.ts; then delete this file.
export { checkRegistryCredential, type CheckOutcome } from './registry-login.ts';
