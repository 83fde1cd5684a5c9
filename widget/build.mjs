// Builds the widget: widget/src/widget.css (minified) goes into widget/src/widget.js, which is
// bundled and minified into <outdir>/widget.js (default functions/linkback/read/static, the copy that is
// committed and served by MentionsFunction, so the Lambda package and `linkback dev` need no Node).
//
//   node widget/build.mjs [outdir]      (npm run build:widget)
//
// It prints the size and the gzipped size, and fails when the gzipped size is over the 5 KB budget.
import { readFile, mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const BUDGET = 5 * 1024;
const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(process.argv[2] || join(here, "..", "functions", "linkback", "read", "static"));

const css = await esbuild.transform(await readFile(join(here, "src", "widget.css"), "utf8"), {
  loader: "css",
  minify: true,
  target: ["chrome100", "firefox100", "safari15"],
});
const js = await esbuild.build({
  entryPoints: [join(here, "src", "widget.js")],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  legalComments: "none",
  define: { __CSS__: JSON.stringify(css.code.trim()) },
  write: false,
});
const code = js.outputFiles[0].contents;
await mkdir(outdir, { recursive: true });
await writeFile(join(outdir, "widget.js"), code);
const gzipped = gzipSync(code, { level: 9 }).length;
console.log(`widget.js: ${code.length} bytes, ${gzipped} bytes gzipped (budget ${BUDGET})`);
if (gzipped > BUDGET) {
  console.error(`widget.js is over its budget of ${BUDGET} bytes gzipped`);
  process.exit(1);
}
