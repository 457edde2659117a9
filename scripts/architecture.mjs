// The layout's rules, checked from the sources (run by `npm run lint`):
// 1. No import circle between folders: the folder graph (a file's folder imports another's when one
//    of its files imports one of the other's) has no cycle, so every dependency runs one way; nor
//    between files, type-only imports included.
// 2. No dead code behind an export: every name a source file of domain/, projections/ or adapters/
//    exports is imported by some other file (the tests count) or used in its own file.
// 3. The application layer (adapters/commands/) stays readable: a file above 300 lines says why in
//    its header comment, in a line starting "Long because".
// Sources are parsed, not type-checked: a few hundred files take well under a second.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import ts from 'typescript';

const root = join(dirname(new URL(import.meta.url).pathname), '..');
const sourceRoots = ['domain', 'projections', 'adapters'];
const walk = (dir) =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) return walk(path);
    return /\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
const sources = sourceRoots.flatMap(walk);
const everything = [...sources, ...walk('test')];

const resolveSpecifier = (from, specifier) => {
  if (!specifier.startsWith('.')) return undefined;
  const target = posix.normalize(posix.join(posix.dirname(from), specifier)).replace(/\.js$/, '.ts');
  return existsSync(join(root, target)) ? target : undefined;
};

/** Per file: what it exports, what it imports (file → names, '*' for all). */
const parse = (file) => {
  const text = readFileSync(join(root, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const exports = new Map(); // name → line
  const imports = []; // { target, names: Set|'*' }
  const lineOf = (node) => source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
  const exported = (node) => ts.getCombinedModifierFlags(node) & ts.ModifierFlags.Export;
  const addImport = (specifier, names) => {
    const target = resolveSpecifier(file, specifier);
    if (target) imports.push({ target, names });
  };
  const identifiers = new Map(); // name → occurrences in this file
  const visit = (node) => {
    if (ts.isIdentifier(node)) identifiers.set(node.text, (identifiers.get(node.text) ?? 0) + 1);
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const names = new Set();
      let all = false;
      if (clause?.name) names.add('default');
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) all = true;
      if (bindings && ts.isNamedImports(bindings)) for (const element of bindings.elements) names.add((element.propertyName ?? element.name).text);
      addImport(node.moduleSpecifier.text, all ? '*' : names);
    } else if (ts.isExportDeclaration(node)) {
      const specifier = node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier) ? node.moduleSpecifier.text : undefined;
      if (node.exportClause && ts.isNamedExports(node.exportClause)) {
        for (const element of node.exportClause.elements) exports.set(element.name.text, lineOf(element));
        if (specifier) addImport(specifier, new Set(node.exportClause.elements.map((element) => (element.propertyName ?? element.name).text)));
      } else if (specifier) addImport(specifier, '*');
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      addImport(node.arguments[0].text, '*');
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      addImport(node.argument.literal.text, node.qualifier ? new Set([node.qualifier.getText().split('.')[0]]) : '*');
    } else if (ts.isExportAssignment(node)) {
      exports.set('default', lineOf(node));
    } else if (node.parent === source && exported(node)) {
      if (ts.isVariableStatement(node)) {
        for (const declaration of node.declarationList.declarations) if (ts.isIdentifier(declaration.name)) exports.set(declaration.name.text, lineOf(declaration));
      } else if (node.name && ts.isIdentifier(node.name)) {
        exports.set(ts.getCombinedModifierFlags(node) & ts.ModifierFlags.Default ? 'default' : node.name.text, lineOf(node));
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { exports, imports, identifiers };
};

const parsed = new Map(everything.map((file) => [file, parse(file)]));
const problems = [];

// 1. Import circles, between folders and between files (a type-only import counts: it still
//    ties the two files' meanings together).
/** The strongly connected components of more than one node (Tarjan), each a circle. */
const circles = (nodes, edges) => {
  let index = 0;
  const indices = new Map(), low = new Map(), stack = [], onStack = new Set(), components = [];
  const strongConnect = (node) => {
    indices.set(node, index); low.set(node, index); index += 1;
    stack.push(node); onStack.add(node);
    for (const next of edges.get(node)?.keys() ?? []) {
      if (!indices.has(next)) { strongConnect(next); low.set(node, Math.min(low.get(node), low.get(next))); }
      else if (onStack.has(next)) low.set(node, Math.min(low.get(node), indices.get(next)));
    }
    if (low.get(node) === indices.get(node)) {
      const component = [];
      let member;
      do { member = stack.pop(); onStack.delete(member); component.push(member); } while (member !== node);
      if (component.length > 1) components.push(component);
    }
  };
  for (const node of nodes) if (!indices.has(node)) strongConnect(node);
  return components.map((component) => {
    const inside = new Set(component);
    return { component, examples: component.flatMap((from) => [...(edges.get(from) ?? [])].filter(([to]) => inside.has(to)).map(([, example]) => `    ${example}`)) };
  });
};
const folderOf = (file) => posix.dirname(file);
const folderEdges = new Map(); // folder → Map(folder → example)
const fileEdges = new Map(); // file → Map(file → example)
for (const file of sources) {
  for (const { target } of parsed.get(file).imports) {
    if (target === file) continue;
    if (!fileEdges.has(file)) fileEdges.set(file, new Map());
    fileEdges.get(file).set(target, `${file} → ${target}`);
    const [from, to] = [folderOf(file), folderOf(target)];
    if (from === to) continue;
    if (!folderEdges.has(from)) folderEdges.set(from, new Map());
    if (!folderEdges.get(from).has(to)) folderEdges.get(from).set(to, `${file} → ${target}`);
  }
}
for (const { component, examples } of circles(new Set(sources.map(folderOf)), folderEdges)) {
  problems.push(`Import circle between folders ${component.join(', ')}:\n${examples.join('\n')}`);
}
for (const { component, examples } of circles(sources, fileEdges)) {
  problems.push(`Import circle between files ${component.join(', ')}:\n${examples.join('\n')}`);
}

// 2. Dead exports.
const used = new Map(); // file → Set(names) | '*'
for (const [file, { imports }] of parsed) {
  for (const { target, names } of imports) {
    if (target === file) continue;
    if (names === '*') used.set(target, '*');
    else if (used.get(target) !== '*') used.set(target, new Set([...(used.get(target) ?? []), ...names]));
  }
}
for (const file of sources) {
  const names = used.get(file);
  if (names === '*') continue;
  const identifiers = parsed.get(file).identifiers;
  for (const [name, line] of parsed.get(file).exports) {
    if (!names?.has(name) && (identifiers.get(name) ?? 0) <= 1) problems.push(`Dead export: ${file}:${line} exports ${name}, which nothing uses (remove it).`);
  }
}

// 3. The application layer's files stay short, or say why not.
const applicationLayer = 'adapters/commands/';
for (const file of sources.filter((path) => path.startsWith(applicationLayer))) {
  const text = readFileSync(join(root, file), 'utf8');
  const lines = text.split('\n').length;
  const header = text.slice(0, text.indexOf('*/') + 2);
  if (lines > 300 && !/^\s*\*\s*Long because/m.test(header)) problems.push(`${file} has ${lines} lines: split it, or say why in its header ("Long because …").`);
}

if (problems.length > 0) {
  console.error(problems.join('\n'));
  console.error(`\n${problems.length} layout problem(s) (scripts/architecture.mjs).`);
  process.exit(1);
}
console.log(`Layout: ${new Set(sources.map(folderOf)).size} folders and ${sources.length} source files, no import circle between them, no dead export.`);
