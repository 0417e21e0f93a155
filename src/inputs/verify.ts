// The verify section: image (one or more images, one a line) and verify-from (runner or cluster)
// -> VerifySettings, with the combinations they allow. Pure: no SDK import, no I/O.
import { InputError } from '../errors.ts';
import type { ImageSetting, Operation, RegistryRef, VerifyFrom, VerifySettings } from '../settings.ts';
import { IMAGE_FORM, parseImageRef, sameRegistryHost } from '../verify/image-ref.ts';
import { choice, clip, list, type GetInput } from './fields.ts';

/** At most this many images in one run: each costs a token flow, a lookup and, from the cluster, a Pod. */
export const MAX_IMAGES = 20;

export interface VerifyContext {
  operation: Operation;
  registry: RegistryRef;
  acrSuffix: string;
  /** pull-secret only: apply (false renders, so no cluster is there to probe) */
  apply?: boolean;
  /** the kubeconfig, context and first namespace the run would use (AKS methods probe there) */
  kubeconfig?: string;
  kubeContext?: string;
  namespace?: string;
  /** AKS methods: how many clusters the run addresses (one kubeconfig reaches one of them) */
  aksClusters?: number;
}

/** The login server the image may name: the registry input's, or `<name><suffix>` (port unknown until ARM answers). */
function checkHost(image: ImageSetting, raw: string, ctx: VerifyContext): void {
  if (!image.host) return;
  const expected = ctx.registry.kind === 'loginServer' ? ctx.registry.loginServer : `${ctx.registry.name}${ctx.acrSuffix}`;
  if (!sameRegistryHost(image.host, expected)) {
    throw new InputError(
      'image',
      `'${clip(raw)}' names login server ${image.host}, not the registry's (${expected})`,
      `images of the registry input's registry: ${IMAGE_FORM}`,
    );
  }
}

export function readVerify(get: GetInput, ctx: VerifyContext): VerifySettings {
  const from = choice<VerifyFrom>(get, 'verify-from', ['runner', 'cluster'], 'runner');
  const lines = list(get('image'));
  const images: ImageSetting[] = [];
  for (const raw of lines) {
    const parsed = parseImageRef(raw);
    if ('problem' in parsed) throw new InputError('image', `'${clip(raw)}' ${parsed.problem}`, IMAGE_FORM);
    checkHost(parsed, raw, ctx);
    if (!images.some((i) => i.repository === parsed.repository && i.tag === parsed.tag && i.digest === parsed.digest)) images.push(parsed);
  }
  if (images.length > MAX_IMAGES) throw new InputError('image', `names ${images.length} images`, `at most ${MAX_IMAGES} images, ${IMAGE_FORM}`);
  if (images.length && ctx.operation === 'detach') {
    throw new InputError('image', 'is given with operation detach, which proves nothing', 'image only with operation verify or attach');
  }
  if (from === 'cluster') {
    if (!images.length)
      throw new InputError(
        'verify-from',
        "is 'cluster' but no image is given",
        `an image to pull from the cluster (${IMAGE_FORM}), or verify-from runner`,
      );
    if (ctx.apply === false) {
      throw new InputError(
        'verify-from',
        "is 'cluster' while apply is false (render only: no cluster is asked)",
        'verify-from runner, or apply true with a kubeconfig',
      );
    }
    if ((ctx.aksClusters ?? 0) > 1) {
      throw new InputError(
        'verify-from',
        `is 'cluster' for ${ctx.aksClusters} AKS clusters, but the probe Pod goes through one kubeconfig`,
        'one cluster (cluster-name) per step with verify-from cluster, or verify-from runner for a fleet',
      );
    }
  }
  return {
    images,
    from,
    ...(from === 'cluster' ? { kubeconfig: ctx.kubeconfig, kubeContext: ctx.kubeContext, namespace: ctx.namespace } : {}),
  };
}
