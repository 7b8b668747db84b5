/**
 * The production image installs only the runtime dependencies (`npm prune --omit=dev` in the
 * Dockerfile) and runs dist/server.js and dist/worker.js, which bundles src/workflows. Every
 * package those entry points import, directly or through our own modules, must therefore be
 * one that the lockfile does not mark as a development dependency. Development tooling
 * (src/dev, src/cli/dev.ts, the tests) may use dev dependencies such as @temporalio/testing.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '../..');
const ENTRY_POINTS = ['src/server.ts', 'src/worker.ts', 'src/workflows/index.ts'];

/** The modules a file loads at run time: type-only imports and exports are erased by the compiler. */
function runtimeImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const onlyTypes =
        clause !== undefined &&
        (clause.isTypeOnly || (!clause.name && named !== undefined && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly)));
      if (!onlyTypes) found.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier) && !node.isTypeOnly) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteral(node.arguments[0]!)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function resolveLocal(from: string, specifier: string): string {
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')]) {
    try {
      readFileSync(candidate);
      return candidate;
    } catch {
      // try the next form
    }
  }
  throw new Error(`cannot resolve ${specifier} from ${path.relative(ROOT, from)}`);
}

const packageName = (specifier: string): string => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

/** Each package the entry points load, with one of our files that imports it. */
function packagesLoadedFrom(entries: string[]): Map<string, string> {
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const queue = entries.map((entry) => path.join(ROOT, entry));
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of runtimeImports(file)) {
      if (specifier.startsWith('.')) queue.push(resolveLocal(file, specifier));
      else if (!specifier.startsWith('node:') && !builtinModules.includes(specifier)) {
        if (!packages.has(packageName(specifier))) packages.set(packageName(specifier), path.relative(ROOT, file));
      }
    }
  }
  return packages;
}

const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };

test('every package the production entry points load is installed without dev dependencies', () => {
  const loaded = packagesLoadedFrom(ENTRY_POINTS);
  const notInProduction = [...loaded].filter(([name]) => lock.packages[`node_modules/${name}`]?.dev === true);
  const missing = [...loaded].filter(([name]) => lock.packages[`node_modules/${name}`] === undefined);

  expect(loaded.has('@temporalio/worker')).toBe(true);
  expect(notInProduction.map(([name, by]) => `${name} (imported by ${by})`)).toEqual([]);
  expect(missing.map(([name, by]) => `${name} (imported by ${by})`)).toEqual([]);
});

test('@temporalio/testing is a development dependency, used by the development tooling only', () => {
  expect(lock.packages['node_modules/@temporalio/testing']?.dev).toBe(true);
  expect(packagesLoadedFrom(ENTRY_POINTS).has('@temporalio/testing')).toBe(false);
  expect(packagesLoadedFrom(['src/cli/dev.ts']).get('@temporalio/testing')).toBe('src/dev/temporal-servers.ts');
});
