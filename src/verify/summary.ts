// The job summary's "Verified images" block: its own SummaryDoc, appended after the run's summary
// (src/report.ts calls it), so the shape of the main summary can change without touching it. Pure.
import type { SummaryDoc } from '../log.ts';
import type { VerifiedImage } from './types.ts';

const PROOF: Record<VerifiedImage['proof'], string> = {
  'token-flow': 'token flow (credential)',
  'registry-api': 'registry API (signed-in identity)',
  'probe-pod': 'probe Pod (kubelet)',
  'role-assignment': 'role assignment (pulling principal)',
};

export function verifiedImagesSummary(images: readonly VerifiedImage[]): SummaryDoc {
  const failed = images.filter((i) => !i.ok).length;
  return {
    title: `Verified images: ${images.length - failed} of ${images.length} proofs passed`,
    table: {
      head: ['image', 'proven by', 'with', 'where', 'digest', 'result'],
      rows: images.map((i) => [
        i.image,
        PROOF[i.proof],
        i.via,
        i.target ?? '',
        i.digest ?? '',
        i.unchecked
          ? `⚠️ not checked: ${i.error ?? ''}`
          : i.ok
            ? '✅ pullable'
            : `❌ ${i.missing ? 'does not exist' : 'cannot pull'}: ${i.error ?? ''}`,
      ]),
    },
    facts: [],
    notes: [],
  };
}
