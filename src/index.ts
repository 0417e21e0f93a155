// Entry point: check the Node.js version, then await run(createDeps()); nothing else.
// Everything else is loaded by import() after the check: static imports are evaluated before any
// line of this module runs, and the bundle needs Node.js 24 (on Node.js 20 it fails inside a
// library with a bare TypeError). Under debug logging, stack traces name the src/ files through the
// source maps shipped in dist/: they are read only for modules loaded after they are enabled.
// node24 needs runner 2.327.1 or later (actions/upload-artifact's README, v6 notes).
const NODE_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);
if (!(major >= NODE_MAJOR)) {
  process.stdout.write(
    `::error::acr-kube-auth needs Node.js ${NODE_MAJOR} or later (runs.using: node24), but runs on Node.js ${process.versions.node}: use the action with \`uses:\` on a runner of version 2.327.1 or later, or run dist/index.js with Node.js ${NODE_MAJOR}.\n`,
  );
  process.exitCode = 1;
} else {
  if (process.env.RUNNER_DEBUG === '1') process.setSourceMapsEnabled(true);
  const { run } = await import('./main.ts');
  const { createDeps } = await import('./create-deps.ts');
  await run(createDeps());
}
