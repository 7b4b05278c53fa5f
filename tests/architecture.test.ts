import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
// @ts-expect-error madge ships no type declarations
import madge from "madge";

/**
 * The module graph has no import circle (issue 13 item 8): runtime/context.ts is the composition
 * root — it imports the services and installs them — and no service imports it back. Services
 * depend on services/types.ts (AppContext and the module contract) and on small leaf modules.
 * Type-only imports count too: a circle of types is still a circle to a reader.
 */
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SOURCE_DIRS = ["runtime", "services", "handlers", "storage", "domain", "jobs", "web/src"];

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

describe("architecture", () => {
  it("has no import circle anywhere in the source", async () => {
    const graph = await madge(SOURCE_DIRS.map((d) => join(ROOT, d)), {
      baseDir: ROOT,
      fileExtensions: ["ts"],
      tsConfig: join(ROOT, "tsconfig.json"),
    });
    // Sanity: the graph is the real one (the composition root reaches the services).
    const deps = graph.obj() as Record<string, string[]>;
    expect(deps["runtime/context.ts"]).toContain("services/types.ts");
    expect(Object.keys(deps).length).toBeGreaterThan(100);
    expect(graph.circular()).toEqual([]);
  });

  it("no service, storage or domain module imports the composition root", () => {
    const offenders = ["services", "storage", "domain", "jobs"]
      .flatMap(tsFiles)
      .filter((file) => /from\s+"[./]*runtime\/context\.ts"/.test(readFileSync(join(ROOT, file), "utf8")));
    expect(offenders).toEqual([]);
  });
});
