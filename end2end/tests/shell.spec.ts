import { test, expect } from "@playwright/test";
import { open, scripted } from "./support";

test("the sign-in page is served in Chinese and hydrates", async ({ page }, testInfo) => {
  const response = await open(page, testInfo, "/login");
  expect(response?.status()).toBe(200);
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expect(page).toHaveTitle(/统一身份认证/);
  await expect(page.getByRole("heading", { level: 1, name: "统一身份认证" })).toBeVisible();
  // The release build names its files by their content and lets browsers keep them.
  const href = await page.locator('link[rel="stylesheet"]').getAttribute("href");
  expect(href).toMatch(/^\/pkg\/lixiao\.[\w-]+\.css$/);
  const css = await page.request.get(href!);
  expect(css.ok()).toBeTruthy();
  expect(css.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
  if (scripted(testInfo)) {
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  }
});

test("an unknown address gets a friendly page and HTTP 404", async ({ page }, testInfo) => {
  const response = await open(page, testInfo, "/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "页面不存在" })).toBeVisible();
  await page.getByRole("link", { name: "返回首页" }).click();
  // The home page belongs to signed-in students; everyone else is asked to sign in.
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("heading", { level: 1, name: "统一身份认证" })).toBeVisible();
});
