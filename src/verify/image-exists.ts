// Does an image exist, asked as the signed-in identity? @azure/container-registry's
// RegistryArtifact.getManifestProperties() (GET /acr/v1/<repo>/_tags/<tag>, then
// /acr/v1/<repo>/_manifests/<digest>, data-plane 2021-07-01), signed in through the SDK's own
// challenge flow (the Entra token exchanged at /oauth2/exchange, then /oauth2/token). Loaded only
// on this path (a dynamic import: its own chunk). Its HTTP goes through the action's transport
// rules: src/net/azure.ts's guarded HttpClient and policies, given through the client options
// (netClientOptions): no redirect is followed (the SDK asks for cross-origin redirects; our
// redirect options say none and the HttpClient turns any 3xx into an error), Retry-After is capped,
// tokens go only to the registry's own origin.
//
// The audience is ACR's own, https://containerregistry.azure.net: it works whether or not the
// registry accepts ARM-audience tokens (acr-dataplane/AUDIENCES.md: "An ACR-audience token works
// with both settings").
import type { AzureSession } from '../azure/types.ts';
import { sessionCredential } from '../azure/arm.ts';
import { netClientOptions, restErrorInfo } from '../net/azure.ts';
import type { ImageSetting } from '../settings.ts';
import { referenceOf, shortRef } from './image-ref.ts';

export const ACR_DATA_AUDIENCE = 'https://containerregistry.azure.net';

export type ExistsOutcome =
  | { exists: true; digest: string }
  | { exists: false; reason: string }
  /** the identity could not ask (no data-plane role, a network rule, a transport failure): existence unknown */
  | { exists: undefined; reason: string };

/** Asks the registry for each image's manifest properties as the signed-in identity; one outcome per image, in order. */
export async function imagesExist(
  session: AzureSession,
  loginServer: string,
  images: readonly ImageSetting[],
  opts: { tenantId?: string } = {},
): Promise<ExistsOutcome[]> {
  const { ContainerRegistryClient } = await import('@azure/container-registry');
  const endpoint = `https://${loginServer}`;
  const client = new ContainerRegistryClient(endpoint, sessionCredential(session, opts.tenantId), {
    audience: ACR_DATA_AUDIENCE,
    ...netClientOptions({ service: 'ACR', origin: endpoint, trace: (l) => session.trace(l) }),
  });
  const out: ExistsOutcome[] = [];
  for (const image of images) {
    const name = `${loginServer}/${shortRef(image)}`;
    try {
      const props = await client.getArtifact(image.repository, referenceOf(image)).getManifestProperties();
      out.push({ exists: true, digest: props.digest });
    } catch (e) {
      const info = restErrorInfo(e);
      const code = info.code ?? '';
      if (info.status === 404 || /^(MANIFEST_UNKNOWN|NAME_UNKNOWN|TAG_UNKNOWN)$/i.test(code)) {
        out.push({
          exists: false,
          reason: `${name} does not exist in the registry (${code || 'HTTP 404'}): push it, or check the repository and tag`,
        });
      } else if (info.status === 401 || info.status === 403) {
        out.push({
          exists: undefined,
          reason: `the signed-in identity may not read ${image.repository} in ${loginServer} (HTTP ${info.status}${code ? ` ${code}` : ''}), so whether ${name} exists was not checked: give it a data-plane read role (AcrPull, or Container Registry Repository Reader on ABAC registries)`,
        });
      } else {
        out.push({ exists: undefined, reason: `could not ask ${loginServer} whether ${name} exists: ${info.message}` });
      }
    }
  }
  return out;
}
