import { expect, type Page } from "@playwright/test";

/** Opens `path` and waits until the WASM bundle has hydrated the page (body[data-hydrated]). */
export async function gotoHydrated(page: Page, path: string) {
  const response = await page.goto(path);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  return response;
}
