import { build } from "esbuild";
import { fileURLToPath } from "node:url";

/**
 * Bundles the demo page (web/src/main.ts, with the domain modules and @noble it imports) into
 * web/dist/app.js: one ES module, no CDN, so the page works offline. Run by `npm run build:web`
 * (and by prestart / pretest); the browser test calls buildWeb() itself.
 */
export const WEB_DIR = fileURLToPath(new URL("../web/", import.meta.url));

export async function buildWeb(options: { minify?: boolean } = {}): Promise<void> {
  await build({
    entryPoints: [`${WEB_DIR}src/main.ts`],
    outfile: `${WEB_DIR}dist/app.js`,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    minify: options.minify ?? true,
    sourcemap: true,
    legalComments: "none",
    logLevel: "warning",
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildWeb();
}
