# Sourced by the other scripts: where the build tools live.
# the cargo-installed wasm-bindgen and the npm-installed wasm-opt (binaryen), esbuild and
# playwright are found on PATH.
export PATH="$HOME/.cargo/bin:$PWD/end2end/node_modules/.bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Playwright must never try to download a browser here: Debian's Chromium is used.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
