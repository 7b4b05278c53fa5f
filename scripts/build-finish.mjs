// Second half of `npm run build`, after `tsc -p tsconfig.build.json` compiled the TypeScript into
// dist/: copies the files the server reads at run time that tsc does not emit (SQL migrations, the
// worker boot module), and removes from dist/ what no longer has a source, so a deleted handler or
// migration can never be served or applied from a stale build. Plain JavaScript: it runs without tsx.
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";

const root = join(import.meta.dirname, "..");
const dist = join(root, "dist");
const SOURCE_DIRS = ["runtime", "handlers", "jobs", "storage", "domain", "services"];
const FILES_MAX = 10_000;

function walk(dir, visit, depth = 0) {
  if (depth > 16) throw new Error(`nested too deep at ${dir}`);
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) walk(full, visit, depth + 1);
    else visit(full);
  }
}

let copied = 0;
let seen = 0;
for (const top of SOURCE_DIRS) {
  walk(join(root, top), (file) => {
    if (++seen > FILES_MAX) throw new Error(`more than ${FILES_MAX} source files`);
    if (file.endsWith(".ts")) return;
    const target = join(dist, relative(root, file));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file, target);
    copied++;
  });
}

let removed = 0;
for (const top of SOURCE_DIRS) {
  const dir = join(dist, top);
  if (!existsSync(dir)) continue;
  walk(dir, (file) => {
    const source = join(root, relative(dist, file));
    const fromTs = source.endsWith(".js") ? `${source.slice(0, -3)}.ts` : undefined;
    if (existsSync(source) || (fromTs && existsSync(fromTs))) return;
    rmSync(file);
    removed++;
  });
}
process.stdout.write(`dist: ${copied} files copied beside the compiled JavaScript, ${removed} stale files removed\n`);
