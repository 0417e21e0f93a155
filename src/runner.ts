// The narrow face of the Actions runner that main.ts and report.ts speak to. Printing is the Log's
// (src/log.ts: every line, output, mask and the summary neutralised there); the rest is reading.
// src/runner-actions.ts implements it over @actions/core.
import type { Log } from './log.ts';

export interface Runner extends Log {
  getInput(name: string): string;
  isDebug(): boolean;
  /** GitHub's OIDC token for the audience; throws when the workflow lacks `id-token: write` */
  getIDToken(audience: string): Promise<string>;
}
