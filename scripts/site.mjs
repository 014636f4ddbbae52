// Makes the site the server serves (target/site) from the browser build, and the hash
// file the server reads beside its binary:
//
//   node scripts/site.mjs FRONTEND_WASM
//
//   public/              copied as it is (favicon, icons, manifest, pwa.js)
//   pkg/lixiao.<h>.js    wasm-bindgen's loader (--target web), minified by esbuild
//   pkg/lixiao.<h>.wasm  the bundle after wasm-bindgen, size-optimised by wasm-opt
//   pkg/lixiao.<h>.css   style/main.css, minified by esbuild
//   *.br, *.gz           brotli and gzip copies (scripts/compress-site.mjs)
//   target/{release,debug}/hash.txt
//                        "js: <h>\nwasm: <h>\ncss: <h>\n" (app/src/assets.rs reads it)
//
// <h> is the file's MD5 in unpadded base64url (22 characters): a new build of a changed
// file gets a new name, so the files are cached for a year (`immutable`) and a phone never
// runs yesterday's bundle with today's pages.
//
// There is one site for both servers (the release one and the one cargo test builds), so
// the hash file is written beside both: a server never names files the site no longer has.
// The site is made whole in target/site.new, compressed included, and only then put in
// the place of the old one, so a failed build leaves the last good site as it was.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [wasmInput] = process.argv.slice(2);
if (!wasmInput) {
  console.error("usage: node scripts/site.mjs FRONTEND_WASM");
  process.exit(2);
}
const SITE = "target/site";
const HASH_FILES = ["target/release/hash.txt", "target/debug/hash.txt"];
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
// The browsers the stylesheet must work in: esbuild would lower any newer CSS syntax for
// them (today's stylesheet needs none, so it is only minified).
const CSS_TARGETS = "chrome109,edge109,firefox115,safari15.6,ios15.6";

const staging = `${SITE}.new`;

/** Stops the build with one line saying what failed; the last good site stays. */
function fail(message) {
  rmSync(staging, { recursive: true, force: true });
  console.error(`error: ${message}`);
  process.exit(1);
}

function run(program, args) {
  try {
    execFileSync(program, args, { stdio: ["ignore", "inherit", "inherit"] });
  } catch (error) {
    if (error.code === "ENOENT") fail(`${program} is not on PATH: run scripts/setup`);
    fail(`${program} failed (exit ${error.status ?? error.signal}); its output is above`);
  }
}

const hashOf = (path) => createHash("md5").update(readFileSync(path)).digest("base64url");

if (!existsSync(wasmInput)) fail(`${wasmInput} does not exist: the wasm32 cargo build comes first (scripts/build)`);
const pkg = join(staging, "pkg");
rmSync(staging, { recursive: true, force: true });
mkdirSync(pkg, { recursive: true });
cpSync("public", staging, { recursive: true });

run("wasm-bindgen", ["--target=web", "--no-typescript", `--out-name=${NAME}`, `--out-dir=${pkg}`, wasmInput]);
// wasm-bindgen writes lixiao_bg.wasm; `hashed` below gives it its final name.
const wasm = join(pkg, `${NAME}_bg.wasm`);
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
const loader = readFileSync(js, "utf8");
const mentions = loader.split(`${NAME}_bg.wasm`).length - 1;
if (mentions !== 1) {
  fail(`wasm-bindgen's loader names ${NAME}_bg.wasm ${mentions} times, not once: this wasm-bindgen is not the one site.mjs knows`);
}
writeFileSync(js, loader.replace(`${NAME}_bg.wasm`, wasmName));
hashed(js, "js");
hashed(css, "css");
run("node", ["scripts/compress-site.mjs", staging]);

// Into place: the new site, then the hash files (each written beside and renamed, so a
// server starting now reads a whole file).
const old = `${SITE}.old`;
rmSync(old, { recursive: true, force: true });
if (existsSync(SITE)) renameSync(SITE, old);
renameSync(staging, SITE);
rmSync(old, { recursive: true, force: true });
for (const file of HASH_FILES) {
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(`${file}.new`, `js: ${hashes.js}\nwasm: ${hashes.wasm}\ncss: ${hashes.css}\n`);
  renameSync(`${file}.new`, file);
}
console.log(`site: ${SITE}/pkg/${NAME}.{${hashes.js}.js, ${hashes.wasm}.wasm, ${hashes.css}.css}; hashes in ${HASH_FILES.join(", ")}`);
