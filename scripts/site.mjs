// Makes the site the server serves (target/site) from the browser build, and the hash
// file the server reads beside its binary:
//
//   node scripts/site.mjs FRONTEND_WASM HASH_FILE
//
//   public/            copied as it is (favicon, icons, manifest, pwa.js)
//   pkg/lixiao.<h>.js    wasm-bindgen's loader (--target web), minified by esbuild
//   pkg/lixiao.<h>.wasm  the bundle after wasm-bindgen, size-optimised by wasm-opt
//   pkg/lixiao.<h>.css   style/main.css, minified by esbuild
//   HASH_FILE            "js: <h>\nwasm: <h>\ncss: <h>\n" (app/src/assets.rs reads it)
//
// <h> is the file's MD5 in unpadded base64url: a new build of a changed file gets a new
// name, so the files are cached for a year (`immutable`) and a phone never runs
// yesterday's bundle with today's pages. The site is made beside the old one and put in
// its place at the end, so a failed build leaves the last good site as it was.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const [wasmInput, hashFile] = process.argv.slice(2);
if (!wasmInput || !hashFile) {
  console.error("usage: node scripts/site.mjs FRONTEND_WASM HASH_FILE");
  process.exit(2);
}
const SITE = "target/site";
const NAME = "lixiao";
// rustc 1.95 emits these WebAssembly features; wasm-opt must be told it may keep them.
const WASM_OPT = [
  "-Oz",
  "--enable-bulk-memory",
  "--enable-nontrapping-float-to-int",
  "--enable-sign-ext",
  "--enable-mutable-globals",
  "--enable-reference-types",
  "--enable-multivalue",
];
// The browsers the stylesheet is written for (esbuild lowers newer CSS for them): the
// last two years of the engines phones and desktops in China run.
const CSS_TARGETS = "chrome109,edge109,firefox115,safari15.6,ios15.6";

const run = (program, args) => execFileSync(program, args, { stdio: ["ignore", "inherit", "inherit"] });
const hashOf = (path) => createHash("md5").update(readFileSync(path)).digest("base64url");

const staging = `${SITE}.new`;
const pkg = join(staging, "pkg");
rmSync(staging, { recursive: true, force: true });
mkdirSync(pkg, { recursive: true });
cpSync("public", staging, { recursive: true });

run("wasm-bindgen", ["--target=web", "--no-typescript", `--out-name=${NAME}`, `--out-dir=${pkg}`, wasmInput]);
const wasm = join(pkg, `${NAME}.wasm`);
renameSync(join(pkg, `${NAME}_bg.wasm`), wasm);
run("wasm-opt", [...WASM_OPT, wasm, "-o", wasm]);

const js = join(pkg, `${NAME}.js`);
run("esbuild", [js, "--minify", "--log-level=warning", "--allow-overwrite", `--outfile=${js}`]);
const css = join(pkg, `${NAME}.css`);
run("esbuild", ["style/main.css", "--minify", "--log-level=warning", `--target=${CSS_TARGETS}`, `--outfile=${css}`]);

// The wasm first: the loader's default address of the bundle names it, so the loader's
// own hash is taken after that name is written in.
const hashes = {};
const hashed = (path, kind) => {
  hashes[kind] = hashOf(path);
  const name = `${NAME}.${hashes[kind]}.${kind}`;
  renameSync(path, join(pkg, name));
  return name;
};
const wasmName = hashed(wasm, "wasm");
writeFileSync(js, readFileSync(js, "utf8").replaceAll(`${NAME}_bg.wasm`, wasmName));
hashed(js, "js");
hashed(css, "css");

rmSync(SITE, { recursive: true, force: true });
renameSync(staging, SITE);
mkdirSync(dirname(hashFile), { recursive: true });
writeFileSync(hashFile, `js: ${hashes.js}\nwasm: ${hashes.wasm}\ncss: ${hashes.css}\n`);
console.log(`site: ${SITE}/pkg/${NAME}.{${hashes.js}.js, ${hashes.wasm}.wasm, ${hashes.css}.css}; hashes in ${hashFile}`);
