# Sourced by the other scripts: where the build tools live.
# cargo-installed tools (cargo-leptos, wasm-bindgen) and npm-installed ones
# (wasm-opt from binaryen, playwright) are found on PATH by cargo-leptos.
export PATH="$HOME/.cargo/bin:$PWD/end2end/node_modules/.bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Playwright must never try to download a browser here: Debian's Chromium is used.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
