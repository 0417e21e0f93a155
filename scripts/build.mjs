// Bundles src/ into dist/ (committed; the runner executes dist/index.js).
// Code splitting keeps each scenario's SDKs in its own chunk, loaded only by `import()` on the
// path that needs it, so the render path starts without Azure or Kubernetes SDKs.
// Usage: node scripts/build.mjs [outdir]   (default dist; the check-dist test builds elsewhere)
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { builtinModules } from 'node:module';

// @actions/* packages ship without a `sideEffects` flag, though their modules only define
// functions. Marking them side-effect free lets esbuild leave out what a path does not use: the
// OIDC client (@actions/http-client) stays in the chunk of the one path that asks for a token.
export const actionsSideEffectFree = {
  name: 'actions-side-effect-free',
  setup(b) {
    b.onResolve({ filter: /^@actions\/|^\.\.?\// }, async (args) => {
      if (args.pluginData?.skip || (!/node_modules[\\/]@actions[\\/]/.test(args.importer) && !args.path.startsWith('@actions/'))) return undefined;
      const r = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { skip: true } });
      if (r.errors.length) return { errors: r.errors };
      return { ...r, sideEffects: false };
    });
  },
};

// @actions/core's file-command imports `crypto` for one `randomUUID()` (the output delimiter);
// src/uuid-shim.ts gives it that without the 12 ms load of `node:crypto`. Only that importer.
export const coreCryptoShim = {
  name: 'core-crypto-shim',
  setup(b) {
    b.onResolve({ filter: /^(node:)?crypto$/ }, (args) =>
      /node_modules[\\/]@actions[\\/]core[\\/]lib[\\/]file-command\.js$/.test(args.importer)
        ? { path: resolve(import.meta.dirname, '../src/uuid-shim.ts') }
        : undefined,
    );
  },
};

// @actions/http-client imports undici for one ProxyAgent that only getAgentDispatcher() builds,
// which this action never calls (src/undici-shim.ts); leaving undici out takes 430 KB off the
// OIDC sign-in. Only that importer: @kubernetes/client-node keeps its own undici.
export const httpClientUndiciShim = {
  name: 'http-client-undici-shim',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, (args) =>
      /node_modules[\\/]@actions[\\/]http-client[\\/]lib[\\/]index\.js$/.test(args.importer)
        ? { path: resolve(import.meta.dirname, '../src/undici-shim.ts') }
        : undefined,
    );
  },
};

// An ESM `import ... from 'node:fs'` makes Node build the module's ESM facade, which reads every
// export and so loads everything fs defers: fs/promises, readline, the stream modules (6 ms for fs
// alone, more for crypto). `process.getBuiltinModule()` returns the object without touching its
// lazy getters, so each built-in costs only what the code uses. esbuild cannot emit that form, so
// this rewrites the import statements of built-ins in its output (they all sit at the top of each
// file, in the few shapes below; any other shape fails the build rather than pass unchanged).
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const IMPORT = /import\s*(?:([\w$]+)\s*,?\s*)?(?:\*\s*as\s+([\w$]+)|\{([^}]*)\})?\s*from\s*"([^"]+)";?/g;

export function builtinsFromProcess(code) {
  const fail = (spec, stmt) => {
    throw new Error(`builtinsFromProcess: unexpected import of ${spec}: ${stmt}`);
  };
  const rewritten = code.replace(IMPORT, (stmt, def, ns, named, spec) => {
    if (!builtins.has(spec)) return stmt;
    const mod = `process.getBuiltinModule(${JSON.stringify(spec)})`;
    const decls = [];
    if (def) decls.push(`const ${def}=${mod};`);
    if (ns) decls.push(`const ${ns}=${mod};`);
    for (const item of (named ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const [from, to = from, ...rest] = item.split(/\s+as\s+/);
      if (rest.length || !/^[\w$]+$/.test(from) || !/^[\w$]+$/.test(to)) fail(spec, stmt);
      decls.push(from === 'default' ? `const ${to}=${mod};` : `const{${from}:${to}}=${mod};`);
    }
    if (!decls.length) fail(spec, stmt);
    return decls.join('');
  });
  // Whatever still names a built-in after `import`/`from` is a shape the pattern does not know.
  for (const m of rewritten.matchAll(/(?:\bfrom|\bimport)\s*"([^"]+)"/g)) if (builtins.has(m[1])) fail(m[1], m[0]);
  return rewritten;
}

export const builtinsByProcess = {
  name: 'builtins-by-process',
  setup(b) {
    b.initialOptions.metafile = true;
    b.onEnd((result) => {
      if (result.errors.length || !result.metafile) return;
      for (const file of Object.keys(result.metafile.outputs)) {
        if (!file.endsWith('.js') && !file.endsWith('.mjs')) continue;
        const path = resolve(b.initialOptions.absWorkingDir ?? process.cwd(), file);
        const code = readFileSync(path, 'utf8');
        const next = builtinsFromProcess(code);
        if (next !== code) writeFileSync(path, next);
      }
    });
  },
};

// js-yaml is one ESM file, and esbuild splits chunks by file: since @kubernetes/client-node parses
// YAML with the same copy, the render path would compile the whole parser too. src/kube/render.ts
// (which only dumps) gets its own copy of the module instead, tree-shaken to the dumper: 34 KB
// instead of 59 KB on that path, whose budget is kubectl's start-up. Paths that also parse load both.
export const yamlDumpCopy = {
  name: 'yaml-dump-copy',
  setup(b) {
    b.onResolve({ filter: /^js-yaml$/ }, async (args) => {
      if (args.pluginData?.skip || !/src[\\/]kube[\\/]render\.ts$/.test(args.importer)) return undefined;
      const r = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { skip: true } });
      return { ...r, suffix: '?dump-only' };
    });
  },
};

// @actions/core writes every workflow command and log line with `process.stdout.write`; creating
// that stream costs 5-8 ms of start-up. src/stdout.ts writes the same text to fd 1 directly. The
// rewrite is checked: if @actions/core changes how it writes, the build fails instead.
const CORE_STDOUT = /node_modules[\\/]@actions[\\/]core[\\/]lib[\\/](command|core)\.js$/;
export const coreStdoutSink = {
  name: 'core-stdout-sink',
  setup(b) {
    b.onLoad({ filter: CORE_STDOUT }, (args) => {
      const code = readFileSync(args.path, 'utf8');
      const calls = code.split('process.stdout.write(').length - 1;
      if (!calls || /process\.stdout(?!\.write\()/.test(code)) throw new Error(`core-stdout-sink: ${args.path} no longer writes as expected`);
      const sink = JSON.stringify(resolve(import.meta.dirname, '../src/stdout.ts'));
      return {
        contents: `import { writeStdout as __acrWriteStdout } from ${sink};\n${code.replaceAll('process.stdout.write(', '__acrWriteStdout(')}`,
        loader: 'js',
      };
    });
  },
};

/** The options every bundle of this project is built with (bench/ reuses them). */
export const bundleOptions = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  minify: true,
  banner: {
    js: "const require=process.getBuiltinModule('node:module').createRequire(import.meta.url);",
  },
  plugins: [actionsSideEffectFree, coreCryptoShim, coreStdoutSink, httpClientUndiciShim, builtinsByProcess, yamlDumpCopy],
};

if (import.meta.main) {
  const outdir = resolve(process.argv[2] ?? 'dist');
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    ...bundleOptions,
    entryPoints: { index: 'src/index.ts' },
    outdir,
    splitting: true,
    keepNames: false,
    legalComments: 'linked',
    chunkNames: 'chunks/[name]-[hash]',
    logLevel: 'warning',
    metafile: Boolean(process.env.BUILD_META),
  });
  if (process.env.BUILD_META) writeFileSync(process.env.BUILD_META, JSON.stringify(result.metafile));
}
