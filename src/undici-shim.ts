// Stands in for `undici` inside @actions/http-client only (scripts/build.mjs routes that one import
// here). The client imports undici for a single use: `getAgentDispatcher()`, the ProxyAgent it
// hands to fetch-based callers. This action never calls it: GitHub's OIDC token is read with the
// client's own node:https requests, which reach a proxy through its `tunnel` agent, not undici.
// Bundling undici for that one class made the OIDC sign-in load 430 KB (about 60 ms) first.
export class ProxyAgent {
  constructor() {
    throw new Error('acr-kube-auth: @actions/http-client getAgentDispatcher() is not available in this bundle (undici is left out)');
  }
}
