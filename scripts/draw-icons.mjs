// Draws Lixiao's home-screen icons (public/icons/*.png) in Debian's Chromium, so they
// use the same CJK font as the pages. Run once after changing the design:
//   NODE_PATH=end2end/node_modules node scripts/draw-icons.mjs
// The PNGs are committed; nothing in the build runs this.
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { chromium } = require("@playwright/test");

const BLUE = "#0b5394";
// [file, size, maskable]: a maskable icon fills the square and keeps the mark inside the
// central 80 % circle that launchers may crop to; the others have their own rounded corners.
const icons = [
  ["icon-192.png", 192, false],
  ["icon-512.png", 512, false],
  ["maskable-512.png", 512, true],
  ["apple-touch-icon.png", 180, true],
];

function page(size, maskable) {
  const radius = maskable ? 0 : Math.round(size * 0.2);
  const glyph = Math.round(size * (maskable ? 0.44 : 0.56));
  const ring = Math.round(size * (maskable ? 0.56 : 0.74));
  return `<!doctype html><html><body style="margin:0;background:transparent">
    <div style="width:${size}px;height:${size}px;border-radius:${radius}px;background:${BLUE};
                display:flex;align-items:center;justify-content:center;position:relative">
      <div style="position:absolute;width:${ring}px;height:${ring}px;border-radius:50%;
                  border:${Math.max(2, Math.round(size * 0.018))}px solid rgba(255,255,255,.35)"></div>
      <span style="font:700 ${glyph}px 'Noto Sans CJK SC','Noto Serif CJK SC',sans-serif;color:#fff;
                   line-height:1;transform:translateY(-3%)">离</span>
    </div></body></html>`;
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--disable-gpu", "--disable-background-networking", "--no-first-run"],
});
for (const [file, size, maskable] of icons) {
  const tab = await browser.newPage({ viewport: { width: size, height: size } });
  await tab.setContent(page(size, maskable));
  await tab.screenshot({ path: `public/icons/${file}`, omitBackground: true });
  await tab.close();
}
await browser.close();
