// Renamed to acr-token.ts (the ACR token service client). This re-export keeps the pull-secret
// sources' imports working until their restructuring (another branch) imports acr-token.ts; then
// delete this file.
export { REFRESH_TOKEN_USERNAME, checkAcrCredential, exchangeRefreshToken } from './acr-token.ts';
