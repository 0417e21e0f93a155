// No module of src/ reaches itself through its imports: static, type-only and dynamic imports
// all count (a type-only cycle still ties the files together for every reader). The imports are
// read with TypeScript's own pre-processor; the cycles are the strongly connected components.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const SRC = resolve(import.meta.dirname, '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** file -> the src/ files it imports (relative specifiers only; packages are not ours). */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const deps = info.importedFiles.map((f) => f.fileName).filter((s) => s.startsWith('.'));
    graph.set(
      file,
      deps.map((s) => resolve(dirname(file), s)),
    );
  }
  return graph;
}

/** Tarjan's strongly connected components with more than one file, or a file importing itself. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

test('no import cycle in src/ (static, type-only or dynamic imports)', () => {
  const files = sources(SRC);
  assert.ok(files.length > 50, `found ${files.length} files under src/`);
  const graph = importGraph(files);
  // the reader sees every kind of import: a static, a type-only and a dynamic one
  const main = graph.get(join(SRC, 'main.ts'))!;
  assert.ok(main.includes(join(SRC, 'deps.ts')), 'type-only import read');
  assert.ok(main.includes(join(SRC, 'scenarios', 'aks', 'index.ts')), 'dynamic import read');
  assert.deepEqual(
    cycles(graph).map((c) => c.map((f) => relative(SRC, f)).join(' <-> ')),
    [],
  );
});

test('the cycle finder finds a cycle through a type-only import and a dynamic one, and a self-import', () => {
  const g = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a']],
    ['d', ['d']],
    ['e', ['a']],
  ]);
  assert.deepEqual(cycles(g), [['a', 'b', 'c'], ['d']]);
  const dir = mkdtempSync(join(tmpdir(), 'cycles-'));
  try {
    writeFileSync(join(dir, 'x.ts'), "import type { Y } from './y.ts';\nexport type X = Y;\n");
    writeFileSync(join(dir, 'y.ts'), "export type Y = 1;\nexport const load = () => import('./x.ts');\n");
    writeFileSync(join(dir, 'z.ts'), "import { load } from './y.ts';\nexport { load };\n");
    const found = cycles(importGraph(['x.ts', 'y.ts', 'z.ts'].map((n) => join(dir, n))));
    assert.deepEqual(
      found.map((c) => c.map((f) => relative(dir, f))),
      [['x.ts', 'y.ts']],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
