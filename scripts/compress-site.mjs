// Precompresses the built site (target/site by default): for every text file and the
// WebAssembly, a .br (brotli, quality 11) and a .gz (gzip -9) beside it, which the server
// sends to browsers that accept them (tower-http ServeDir precompressed_br/gzip). Made at
// build time, so no request pays for compressing a static file. A copy is kept only if
// it is smaller; stale copies from an earlier build are removed.
import { readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const root = process.argv[2] ?? "target/site";
const COMPRESSIBLE = /\.(js|mjs|wasm|css|html|svg|json|webmanifest|txt)$/;

let files = 0;
let before = 0;
let after = 0;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    if (stat.isDirectory()) {
      walk(path);
      continue;
    }
    if (name.endsWith(".br") || name.endsWith(".gz")) {
      // A copy whose original is gone (an older hashed name) is removed.
      const original = path.slice(0, -3);
      try {
        statSync(original);
      } catch {
        unlinkSync(path);
      }
      continue;
    }
    if (!COMPRESSIBLE.test(name)) continue;
    const bytes = readFileSync(path);
    const copies = [
      [".br", brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } })],
      [".gz", gzipSync(bytes, { level: 9 })],
    ];
    for (const [suffix, compressed] of copies) {
      const target = path + suffix;
      if (compressed.length < bytes.length) {
        writeFileSync(target, compressed);
      } else {
        try {
          unlinkSync(target);
        } catch {}
      }
    }
    files += 1;
    before += bytes.length;
    after += Math.min(bytes.length, copies[0][1].length);
  }
}
walk(root);
console.log(`precompressed ${files} files in ${root}: ${before} bytes, ${after} as brotli`);
