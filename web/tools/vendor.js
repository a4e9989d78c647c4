#!/usr/bin/env node
// Copies the ES modules of @noble/curves, @noble/hashes and @noble/ciphers that the pages need from
// web/node_modules into web/vendor/, so that `urne serve` can embed and serve them without node
// at build time (the copies are committed). The copies are the packages' own files, from the
// versions pinned in web/package-lock.json, with two changes a browser needs: the bare
// specifiers `@noble/hashes/…` become relative paths (a module worker has no import map), and
// the source-map comments are dropped (their sources are not served).
//
//   node web/tools/vendor.js           writes web/vendor/
//   node web/tools/vendor.js --check   fails unless web/vendor/ is exactly what it would write

import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const modules = join(web, 'node_modules');
const out = join(web, 'vendor');
// What web/src/urne/deps.js and trustee-deps.js import: the closure of these is what the browser
// loads (the booth the first's, the trustees' page both).
const roots = [
  '@noble/curves/ed25519.js',
  '@noble/hashes/sha2.js',
  '@noble/hashes/utils.js',
  '@noble/hashes/argon2.js',
  '@noble/ciphers/chacha.js',
];
const packages = ['@noble/curves', '@noble/hashes', '@noble/ciphers'];

// Static imports and re-exports at the start of a line (the packages' documentation comments
// also show import lines, but indented behind ` * `).
const IMPORT = /^(?:import|export)\b[^;]*?\bfrom\s*(['"])([^'"]+)\1|^import\s*(['"])([^'"]+)\3/gm;

/** The files to write: vendored path (posix, under vendor/) → text. */
function plan() {
  const files = new Map();
  const queue = [...roots];
  while (queue.length > 0) {
    const spec = queue.shift();
    if (files.has(spec)) continue;
    const text = readFileSync(join(modules, spec), 'utf8');
    const rewritten = text
      .replace(IMPORT, (stmt, q1, s1, q3, s3) => {
        const target = s1 ?? s3;
        const resolved = resolve(spec, target);
        queue.push(resolved);
        let rel = posix.relative(posix.dirname(spec), resolved);
        if (!rel.startsWith('.')) rel = `./${rel}`;
        return stmt.replace(target, rel);
      })
      .replace(/^\/\/# sourceMappingURL=.*\n?/gm, '');
    files.set(spec, rewritten);
  }
  for (const p of packages) {
    files.set(`${p}/LICENSE`, readFileSync(join(modules, p, 'LICENSE'), 'utf8'));
    const { version } = JSON.parse(readFileSync(join(modules, p, 'package.json'), 'utf8'));
    files.set(`${p}/VERSION`, `${version}\n`);
  }
  return files;
}

/** The package path of `target` imported from the package file `from`. */
function resolve(from, target) {
  if (target.startsWith('.')) return posix.normalize(posix.join(posix.dirname(from), target));
  const p = packages.find((name) => target.startsWith(`${name}/`));
  if (!p) throw new Error(`${from}: imports ${target}, which is not one of ${packages.join(', ')}`);
  return target;
}

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

const files = plan();
if (process.argv.includes('--check')) {
  const problems = [];
  for (const [path, text] of files) {
    const file = join(out, path);
    if (!existsSync(file)) problems.push(`missing ${path}`);
    else if (readFileSync(file, 'utf8') !== text) problems.push(`differs: ${path}`);
  }
  for (const file of listFiles(out)) {
    const path = relative(out, file).split('\\').join('/');
    if (!files.has(path)) problems.push(`not from the packages: ${path}`);
  }
  if (problems.length > 0) {
    console.error(`web/vendor/ is not what web/tools/vendor.js writes (run it again):\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`web/vendor/: ${files.size} files, as web/tools/vendor.js writes them`);
} else {
  rmSync(out, { recursive: true, force: true });
  for (const [path, text] of files) {
    const file = join(out, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  console.log(`wrote ${files.size} files to web/vendor/`);
}
