// The layering docs/architecture.md describes, checked on the sources so it cannot drift: infra/
// is the ground floor, no module imports itself back through a cycle, and shipped code never
// depends on a test helper.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// Compiled location: dist/stack/test/ → the repository root.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TOP_FOLDERS = ['infra', 'origin', 'edge', 'balancer', 'player', 'stack', 'bench'];
const COMPONENTS = TOP_FOLDERS.filter((folder) => folder !== 'infra');
const RELATIVE_IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(ROOT, dir), { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
      return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
    }),
  );
  return nested.flat();
}

/** Every repository source file with the repository files it imports (paths relative to the root). */
async function importGraph(): Promise<Map<string, string[]>> {
  const files = (await Promise.all(TOP_FOLDERS.map(sourceFiles))).flat();
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = await readFile(join(ROOT, file), 'utf8');
    const targets = [...text.matchAll(RELATIVE_IMPORT)].map((match) =>
      normalize(join(dirname(file), match[1] ?? match[2] ?? '')).replace(/\.js$/, '.ts'),
    );
    graph.set(file, targets);
  }
  return graph;
}

function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const cycles: string[][] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    path.push(file);
    for (const target of graph.get(file) ?? []) {
      if (!graph.has(target)) continue;
      if (state.get(target) === 'open') cycles.push([...path.slice(path.indexOf(target)), target]);
      else if (!state.has(target)) visit(target);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

const topFolder = (file: string): string => file.split('/')[0] ?? '';
const isTestCode = (file: string): boolean =>
  file.endsWith('.test.ts') || /\.test-[a-z-]+\.ts$/.test(file) || file.split('/').includes('test') || file.startsWith('infra/testing/');

describe('repository layout', () => {
  it('reads the sources it checks', async () => {
    const graph = await importGraph();
    assert.ok(graph.size > 100, `only ${graph.size} source files found under ${relative(process.cwd(), ROOT) || '.'}`);
    for (const file of ['edge/pipeline/request-phases.ts', 'balancer/balancer-routes.ts', 'infra/http/byte-range.ts']) {
      assert.ok(graph.has(file), `${file} not found`);
    }
  });

  it('has no import cycle', async () => {
    const cycles = findCycles(await importGraph());
    assert.deepEqual(cycles.map((cycle) => cycle.join(' → ')), []);
  });

  it('keeps infra/ the ground floor: it imports no component', async () => {
    const upward = [...(await importGraph())]
      .filter(([file]) => topFolder(file) === 'infra')
      .flatMap(([file, targets]) => targets.filter((target) => COMPONENTS.includes(topFolder(target))).map((target) => `${file} → ${target}`));
    assert.deepEqual(upward, []);
  });

  it('ships no dependency on a test helper (benchmarks may use the test fixtures)', async () => {
    const leaks = [...(await importGraph())]
      .filter(([file]) => !isTestCode(file) && topFolder(file) !== 'bench')
      .flatMap(([file, targets]) => targets.filter(isTestCode).map((target) => `${file} → ${target}`));
    assert.deepEqual(leaks, []);
  });

  it('spots a cycle and a test-helper import when there is one', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['a.ts']],
    ]);
    assert.deepEqual(findCycles(graph), [['a.ts', 'b.ts', 'a.ts']]);
    assert.equal(isTestCode('edge/test/test-origin.ts'), true);
    assert.equal(isTestCode('infra/runtime/cluster-primary.test-worker.ts'), true);
    assert.equal(isTestCode('edge/pipeline/origin-fill.ts'), false);
  });
});
