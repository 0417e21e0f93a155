import{createRequire as __acrCreateRequire}from"node:module";const require=__acrCreateRequire(import.meta.url);
var o=Number(process.versions.node.split(".")[0]);if(!(o>=24))process.stdout.write(`::error::acr-kube-auth needs Node.js 24 or later (runs.using: node24), but runs on Node.js ${process.versions.node}: use the action with \`uses:\` on a runner of version 2.327.1 or later, or run dist/index.js with Node.js 24.
`),process.exitCode=1;else{process.env.RUNNER_DEBUG==="1"&&process.setSourceMapsEnabled(!0);let{run:e}=await import("./chunks/main-EOF6MP4U.js"),{createDeps:s}=await import("./chunks/create-deps-OZ474WGM.js");await e(s())}
//# sourceMappingURL=index.js.map
