import { test, expect } from "@playwright/test";
import { gotoHydrated } from "./support";

test("the home page is served in Chinese and hydrates", async ({ page }) => {
  const response = await gotoHydrated(page, "/");
  expect(response?.status()).toBe(200);
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expect(page).toHaveTitle(/离校/);
  await expect(page.getByRole("heading", { level: 1, name: "研究生离校信息查询" })).toBeVisible();
  // The stylesheet arrived and applied (not just linked).
  const cssResponse = await page.request.get("/pkg/lixiao.css");
  expect(cssResponse.ok()).toBeTruthy();
});

test("an unknown address gets a friendly page and HTTP 404", async ({ page }) => {
  const response = await gotoHydrated(page, "/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "页面不存在" })).toBeVisible();
  await page.getByRole("link", { name: "返回首页" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { level: 1, name: "研究生离校信息查询" })).toBeVisible();
});

test("the page fits a phone screen without sideways scrolling", async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await gotoHydrated(page, "/");
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBeLessThanOrEqual(0);
});
