// Entrypoint for `npm run local-action` (scripts/local-action.ts starts it): @github/local-action imports this module and calls its
// exported run() with no arguments (src/index.ts runs on import and src/main.ts's run() takes the
// Deps), after stubbing @actions/core so inputs come from the .env file and outputs are printed.
import { run as runAction } from '../src/main.ts';
import { createDeps } from '../src/create-deps.ts';

export async function run(): Promise<void> {
  await runAction(createDeps());
}
