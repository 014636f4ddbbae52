// Keeps the browser's install offer (beforeinstallprompt) until the app's own code has
// started and can show its "安装到主屏幕" button: the event may fire before the WASM
// bundle has hydrated the page. Nothing else happens here.
window.addEventListener("beforeinstallprompt", (event) => {
  event.preventDefault();
  window.__lixiaoInstallPrompt = event;
  window.dispatchEvent(new Event("lixiao-installable"));
});
window.addEventListener("appinstalled", () => {
  window.__lixiaoInstallPrompt = undefined;
  window.dispatchEvent(new Event("lixiao-installed"));
});
