// Entry point: await run(createDeps()); nothing else.
import { run } from './main.ts';
import { createDeps } from './create-deps.ts';

await run(createDeps());
