import { build } from "esbuild";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Bundles the demo page (web/src/main.ts, with the domain modules and @noble it imports) into
 * web/dist/app.js: one ES module, no CDN, so the page works offline. Run by `npm run build:web`
 * (and by prestart / pretest); the web tests call buildWeb() themselves. Each output file is written
 * under a temporary name and renamed, so a server (or a parallel test) never reads half a bundle.
 */
export const WEB_DIR = fileURLToPath(new URL("../web/", import.meta.url));

export async function buildWeb(): Promise<void> {
  const result = await build({
    entryPoints: [join(WEB_DIR, "src", "main.ts")],
    outfile: join(WEB_DIR, "dist", "app.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    minify: true,
    sourcemap: true,
    legalComments: "none",
    logLevel: "warning",
    write: false,
  });
  for (const file of result.outputFiles) {
    mkdirSync(dirname(file.path), { recursive: true });
    const temporary = join(dirname(file.path), `.${basename(file.path)}.${process.pid}.tmp`);
    writeFileSync(temporary, file.contents);
    renameSync(temporary, file.path);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildWeb();
}
