// Fails when src/ has an import cycle, between files or between feature folders (the top-level
// folders of src/; the files directly in src/ are the composition root, one node "(root)").
// Folder cycles are what keep a feature from being understood, tested or moved on its own, and
// madge --circular cannot see them: no two files need to import each other for two folders to.
// madge builds the file graph (type-only imports included: they couple as much as values do);
// this folds it to folders and prints every strongly connected component with one cycle path and
// the file-level imports behind each step. Edges leaving src/ (specs importing test/support) are
// not part of the feature graph and are dropped.
const path = require('path');
const madge = require('madge');

const root = path.join(__dirname, '..');
const src = path.join(root, 'src');

function folderOf(file) {
  const parts = file.split('/');
  return parts.length === 1 ? '(root)' : parts[0];
}

// Tarjan's strongly connected components (iterative enough for a graph of ~20 nodes).
function stronglyConnected(nodes, edges) {
  let index = 0;
  const stack = [];
  const onStack = new Set();
  const idx = new Map();
  const low = new Map();
  const out = [];
  function visit(v) {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), idx.get(w)));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) out.push(component.sort());
    }
  }
  for (const v of nodes) if (!idx.has(v)) visit(v);
  return out;
}

// A shortest cycle through `start` inside its component (breadth-first back to start).
function cycleThrough(start, edges, component) {
  const inside = new Set(component);
  const prev = new Map();
  const queue = [start];
  const seen = new Set([start]);
  while (queue.length) {
    const v = queue.shift();
    for (const w of edges.get(v) ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const route = [v];
        for (let u = v; u !== start;) route.unshift((u = prev.get(u)));
        return [...route, start];
      }
      if (!seen.has(w)) {
        seen.add(w);
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

async function main() {
  const result = await madge(src, {
    fileExtensions: ['ts'],
    tsConfig: path.join(root, 'tsconfig.json'),
    detectiveOptions: { ts: { skipTypeImports: false }, tsx: { skipTypeImports: false } },
  });
  const files = result.obj();
  const fileCount = Object.keys(files).length;
  if (fileCount < 10) throw new Error(`madge found only ${fileCount} files under src/: the parse is broken`);

  const edges = new Map();
  const why = new Map(); // "a -> b" => file-level imports behind it
  for (const [from, deps] of Object.entries(files)) {
    if (from.startsWith('..')) continue;
    const a = folderOf(from);
    if (!edges.has(a)) edges.set(a, new Set());
    for (const to of deps) {
      if (to.startsWith('..')) continue;
      const b = folderOf(to);
      if (a === b) continue;
      edges.get(a).add(b);
      const key = `${a} -> ${b}`;
      if (!why.has(key)) why.set(key, []);
      why.get(key).push(`${from} -> ${to}`);
    }
  }

  let failed = false;
  const fileCycles = result.circular();
  for (const cycle of fileCycles) {
    failed = true;
    console.error(`file cycle: ${[...cycle, cycle[0]].join(' -> ')}`);
  }
  const components = stronglyConnected([...edges.keys()].sort(), edges);
  for (const component of components) {
    failed = true;
    // The shortest cycle in the component: the one to break first.
    const route = component.map((v) => cycleThrough(v, edges, component)).reduce((a, b) => (b.length < a.length ? b : a));
    console.error(`folder cycle among {${component.join(', ')}}: ${route.join(' -> ')}`);
    for (let i = 0; i + 1 < route.length; i++) {
      const lines = why.get(`${route[i]} -> ${route[i + 1]}`);
      for (const line of lines.slice(0, 4)) console.error(`    ${line}`);
      if (lines.length > 4) console.error(`    … and ${lines.length - 4} more`);
    }
  }
  const edgeCount = [...edges.values()].reduce((n, s) => n + s.size, 0);
  const summary = `${fileCount} files, ${edges.size} folders, ${edgeCount} folder imports: ${fileCycles.length} file cycles, ${components.length} folder cycles`;
  if (failed) {
    console.error(summary);
    process.exitCode = 1;
  } else {
    console.log(`No import cycles (${summary}).`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
