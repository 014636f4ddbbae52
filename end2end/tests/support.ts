import { expect, type Page, type TestInfo } from "@playwright/test";

/** Whether this project runs with JavaScript (and so hydrates). */
export function scripted(testInfo: TestInfo): boolean {
  return testInfo.project.use.javaScriptEnabled !== false;
}

/** Opens `path`; with JavaScript, waits until the WASM bundle has hydrated the page. */
export async function open(page: Page, testInfo: TestInfo, path: string) {
  const response = await page.goto(path);
  await settled(page, testInfo);
  return response;
}

/** After a navigation: with JavaScript, wait for hydration before anything is clicked. */
export async function settled(page: Page, testInfo: TestInfo) {
  if (scripted(testInfo)) {
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  }
}

/** Signs in through the login form, the way a student does, and lands in the service hall. */
export async function signIn(page: Page, testInfo: TestInfo, studentNumber: string, password: string) {
  await open(page, testInfo, "/login");
  await page.getByLabel("学号").fill(studentNumber);
  await page.getByLabel("密码").fill(password);
  await page.getByRole("button", { name: "登录" }).click();
  await expect(page).toHaveURL(/\/hall$/);
  await expect(page.getByRole("heading", { level: 1, name: "办事大厅" })).toBeVisible();
  await settled(page, testInfo);
}

/** The section of one office on the clearance page or the slip. */
export function office(page: Page, name: string) {
  return page.getByRole("region", { name, exact: true });
}

/** Fails if the page scrolls sideways (the phone promise). */
export async function expectNoSidewaysScroll(page: Page) {
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow, "horizontal overflow in CSS pixels").toBeLessThanOrEqual(0);
}
