// The narrow face of the Actions runner that main.ts and report.ts speak to. Tests hand in a fake;
// src/runner-actions.ts implements it over @actions/core.
export interface Runner {
  getInput(name: string): string;
  setOutput(name: string, value: string): void;
  /** register a value to mask in every later log line */
  setSecret(value: string): void;
  info(message: string): void;
  debug(message: string): void;
  isDebug(): boolean;
  warning(message: string): void;
  notice(message: string): void;
  /** the single failure line: `::error::message` and exit code 1 */
  fail(message: string): void;
  /** append markdown to the job summary (no-op when GITHUB_STEP_SUMMARY is unset) */
  summary(markdown: string): Promise<void>;
  /** GitHub's OIDC token for the audience; throws when the workflow lacks `id-token: write` */
  getIDToken(audience: string): Promise<string>;
}
