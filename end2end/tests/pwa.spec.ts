import type { Page } from "@playwright/test";
import { expect, test } from "./own-server-fixture";
import { office, open, scripted, settled, signIn } from "./support";

// A service worker needs JavaScript; the pages themselves are tested without it elsewhere.
test.skip(({ javaScriptEnabled }) => javaScriptEnabled === false, "service workers need JavaScript");
test.use({ ownEnv: { LIXIAO_BUILD_VERSION: "e2e-1" } });

/** Waits until the service worker controls the page, so navigations go through it. */
async function controlled(page: Page) {
  await page.waitForFunction(() => navigator.serviceWorker?.controller != null);
}

/** The paths saved in the per-student page caches, and the caches' names. */
async function savedPages(page: Page) {
  return page.evaluate(async () => {
    const saved: { cache: string; path: string; text: string }[] = [];
    for (const name of await caches.keys()) {
      if (!name.startsWith("lixiao-pages-")) continue;
      const cache = await caches.open(name);
      for (const request of await cache.keys()) {
        const response = await cache.match(request);
        saved.push({ cache: name, path: new URL(request.url).pathname, text: (await response?.text()) ?? "" });
      }
    }
    return saved;
  });
}

/** Visits `path` online and waits until the worker has saved it for offline use. */
async function visitAndSave(page: Page, testInfo: Parameters<typeof open>[1], path: string) {
  await controlled(page);
  await open(page, testInfo, path);
  await expect.poll(async () => (await savedPages(page)).map((saved) => saved.path)).toContain(path);
}

test("the manifest is complete and the app is installable", async ({ page, request }, testInfo) => {
  const cdp = await page.context().newCDPSession(page);
  await open(page, testInfo, "/login");
  await controlled(page);
  const manifest = await cdp.send("Page.getAppManifest");
  expect(manifest.errors).toEqual([]);
  const parsed = JSON.parse(manifest.data ?? "{}");
  expect(parsed).toMatchObject({
    name: "研究生离校",
    short_name: "离校",
    lang: "zh-CN",
    start_url: "/hall",
    scope: "/",
    display: "standalone",
    id: "/",
  });
  // The test context is incognito-like, which Chromium reports as "in-incognito": that
  // is the test browser, not the app. Any other entry is a real installability problem.
  const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
  expect(installabilityErrors.filter((error) => error.errorId !== "in-incognito")).toEqual([]);

  for (const [path, size] of [
    ["/icons/icon-192.png", 192],
    ["/icons/icon-512.png", 512],
    ["/icons/maskable-512.png", 512],
    ["/icons/apple-touch-icon.png", 180],
  ] as const) {
    const icon = await request.get(path);
    expect(icon.headers()["content-type"]).toBe("image/png");
    const png = await icon.body();
    expect([png.readUInt32BE(16), png.readUInt32BE(20)], path).toEqual([size, size]);
  }
});

test("the offline page is styled and names the help line", async ({ page }, testInfo) => {
  const response = await page.goto("/offline.html");
  expect(response?.headers()["content-security-policy"]).toContain("style-src 'self'");
  await expect(page.getByRole("heading", { name: "网络未连接" })).toBeVisible();
  // The stylesheet applied: the header has the brand colour.
  await expect(page.locator(".site-header")).toHaveCSS("background-color", "rgb(11, 83, 148)");
  void testInfo;
});

test("offline, the clearance page shows the last status with every action disabled", async ({ page }, testInfo) => {
  await signIn(page, testInfo, "2020100001", "061234");
  await visitAndSave(page, testInfo, "/clearance");
  await expect(page.getByRole("button", { name: "提交离校流程" })).toBeEnabled();

  await page.context().setOffline(true);
  await page.reload();
  await expect(page.locator(".offline-banner")).toHaveText(/^离线：这是 \d{4}-\d{2}-\d{2} \d{2}:\d{2} 时的状态，恢复网络后刷新$/);
  await expect(page.getByRole("heading", { level: 1, name: "研究生离校信息查询" })).toBeVisible();
  await expect(office(page, "图书馆").locator(".badge")).toHaveText("通过");
  await expect(page.getByRole("button", { name: "提交离校流程" })).toBeDisabled();
  for (const button of await page.getByRole("button").all()) {
    await expect(button).toBeDisabled();
  }
  // Pages never seen offline get the offline page with the help line.
  await page.goto("/hall");
  await expect(page.getByRole("heading", { name: "网络未连接" })).toBeVisible();
  await expect(page.getByRole("link", { name: "0516-83592137" })).toHaveAttribute("href", "tel:0516-83592137");
});

test("offline, 刘洋 still has her slip and 李娜 her clearance with 注销 disabled", async ({ page }, testInfo) => {
  await signIn(page, testInfo, "2020100004", "150027");
  await controlled(page);
  // Inside the app, as a student moves: 个人中心 → 已完成事项 → 查看并打印 (the router
  // loads data, not pages; the page tells the worker what to keep).
  await page.getByRole("link", { name: /已完成事项/ }).first().click();
  await settled(page, testInfo);
  await page.getByRole("link", { name: "查看并打印" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "研究生离校流程单" })).toBeVisible();
  await expect.poll(async () => (await savedPages(page)).map((saved) => saved.path)).toContain("/completed/slip");
  await page.context().setOffline(true);
  await page.reload();
  await expect(page.locator(".offline-banner")).toContainText("离线：这是");
  await expect(page.getByText("LX202006092020100004")).toBeVisible();
  await expect(page.getByRole("button", { name: "打印" })).toBeDisabled();
  await page.context().setOffline(false);

  await open(page, testInfo, "/hall");
  await page.getByRole("button", { name: "退出" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await signIn(page, testInfo, "2020100002", "12002X");
  await controlled(page);
  await page.getByRole("link", { name: /研究生离校信息查询/ }).click();
  await expect(page.getByRole("heading", { level: 1, name: "研究生离校信息查询" })).toBeVisible();
  await settled(page, testInfo);
  await expect.poll(async () => (await savedPages(page)).map((saved) => saved.path)).toContain("/clearance");
  await expect(office(page, "图书馆").getByRole("button", { name: "注销" })).toBeEnabled();
  await page.context().setOffline(true);
  await page.reload();
  await expect(page.locator(".offline-banner")).toBeVisible();
  await expect(office(page, "图书馆").getByRole("button", { name: "注销" })).toBeDisabled();
  await expect(page.getByText("682.40").first()).toBeVisible();

  // Back online she cancels the card; the saved page follows what she did.
  await page.context().setOffline(false);
  await open(page, testInfo, "/clearance");
  await office(page, "图书馆").getByRole("button", { name: "注销" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "确认注销" }).click();
  await expect(office(page, "图书馆")).toContainText("已注销");
  await expect
    .poll(async () => (await savedPages(page)).find((saved) => saved.path === "/clearance")?.text ?? "")
    .toContain("已注销");
  await page.context().setOffline(true);
  await page.reload();
  await expect(page.locator(".offline-banner")).toBeVisible();
  await expect(office(page, "图书馆")).toContainText("已注销");
});

test("nothing from the API or the sign-in is ever stored", async ({ page }, testInfo) => {
  await signIn(page, testInfo, "2020100001", "061234");
  await visitAndSave(page, testInfo, "/clearance");
  await page.getByRole("button", { name: "提交离校流程" }).click();
  await expect(page.getByRole("status")).toContainText("离校流程已于");
  const stored = await page.evaluate(async () => {
    const paths: string[] = [];
    for (const name of await caches.keys()) {
      for (const request of await (await caches.open(name)).keys()) paths.push(new URL(request.url).pathname);
    }
    return paths;
  });
  expect(stored.filter((path) => path.startsWith("/api/") || path.startsWith("/login"))).toEqual([]);
  expect(stored).toContain("/clearance");
});

test("after logout nothing personal is left in the cache", async ({ page }, testInfo) => {
  await signIn(page, testInfo, "2020100004", "150027");
  await visitAndSave(page, testInfo, "/clearance");
  await visitAndSave(page, testInfo, "/completed/slip");
  expect((await savedPages(page)).some((saved) => saved.text.includes("刘洋"))).toBe(true);

  await page.getByRole("button", { name: "退出" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect.poll(async () => (await savedPages(page)).length).toBe(0);
  const names = await page.evaluate(() => caches.keys());
  expect(names.filter((name) => name.startsWith("lixiao-pages-"))).toEqual([]);
  // Whatever is left (the app's own files) holds nothing about her.
  const everything = await page.evaluate(async () => {
    let text = "";
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) {
        const response = await cache.match(request);
        if (response?.headers.get("content-type")?.match(/text|json|javascript/)) {
          text += await response.text();
        }
      }
    }
    return text;
  });
  expect(everything).not.toContain("刘洋");
  expect(everything).not.toContain("2020100004");

  await page.context().setOffline(true);
  await page.goto("/clearance");
  await expect(page.getByRole("heading", { name: "网络未连接" })).toBeVisible();
  await expect(page.getByText("刘洋")).toHaveCount(0);
});

test("a second student on the same browser never sees the first one's saved page", async ({ page }, testInfo) => {
  await signIn(page, testInfo, "2020100001", "061234");
  await visitAndSave(page, testInfo, "/clearance");
  // 王小明 walks away without signing out; his session ends; 李娜 signs in on the same
  // browser, from the sign-in page already open there (so no page load in between).
  await open(page, testInfo, "/login");
  await page.context().clearCookies();
  await page.getByLabel("学号").fill("2020100002");
  await page.getByLabel("密码").fill("12002X");
  await page.getByRole("button", { name: "登录" }).click();
  await expect(page).toHaveURL(/\/password$/);
  await expect.poll(async () => (await savedPages(page)).filter((saved) => saved.text.includes("王小明")).length).toBe(0);

  await page.context().setOffline(true);
  await page.goto("/clearance");
  await expect(page.getByText("王小明")).toHaveCount(0);
});

test("a new version offers itself and reloads into it when accepted", async ({ page, own }, testInfo) => {
  await open(page, testInfo, "/login");
  await controlled(page);
  await expect(page.getByText("有新版本")).toHaveCount(0);

  // A deploy: the same server comes back as another build.
  await own.stop();
  await own.run({ LIXIAO_BUILD_VERSION: "e2e-2" });
  await open(page, testInfo, "/login");
  await expect(page.getByText("有新版本")).toBeVisible();
  // A mark on this page: gone once the page has really reloaded.
  await page.evaluate(() => ((window as unknown as { before: boolean }).before = true));
  await page.getByRole("button", { name: "立即更新" }).click();
  await page.waitForFunction(() => !(window as unknown as { before?: boolean }).before);
  await page.waitForFunction(() => navigator.serviceWorker.controller?.scriptURL.includes("v=e2e-2"));
  await settled(page, testInfo);
  await expect(page.getByText("有新版本")).toHaveCount(0);
  const caches_ = await page.evaluate(() => caches.keys());
  expect(caches_).toContain("lixiao-static-e2e-2");
  expect(caches_).not.toContain("lixiao-static-e2e-1");
});

test("the service hall offers installation where the browser does", async ({ page }, testInfo) => {
  test.skip(!scripted(testInfo));
  await signIn(page, testInfo, "2020100001", "061234");
  await expect(page.getByRole("button", { name: "安装到主屏幕" })).toHaveCount(0);
  // What Chromium does when the app is installable (headless test browsers never offer).
  await page.evaluate(() => {
    const offer = new Event("beforeinstallprompt", { cancelable: true });
    Object.assign(offer, { prompt: () => ((window as unknown as { prompted: boolean }).prompted = true) });
    window.dispatchEvent(offer);
  });
  await page.getByRole("button", { name: "安装到主屏幕" }).click();
  expect(await page.evaluate(() => (window as unknown as { prompted: boolean }).prompted)).toBe(true);
  await expect(page.getByRole("button", { name: "安装到主屏幕" })).toHaveCount(0);
});

test("on iOS Safari the hall explains how to add the app to the home screen", async ({ browser, own }) => {
  const iphone = await browser.newContext({
    baseURL: own.baseURL,
    viewport: { width: 390, height: 844 },
    userAgent:
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
  });
  const page = await iphone.newPage();
  const info = test.info();
  await signIn(page, info, "2020100003", "2020100003");
  await expect(page.getByText("在 Safari 中点击底部的“分享”按钮，再选择“添加到主屏幕”")).toBeVisible();
  await iphone.close();
});
