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

/** The password each story student chooses at the forced first change. */
export function newPasswordFor(studentNumber: string) {
  return `mining-${studentNumber}-ok`;
}

/**
 * Signs in through the login form, the way a student does. The demo students start on
 * their initial passwords, so the first sign-in is sent to 修改密码: change it, sign in
 * again with the new one, and land in the service hall.
 */
export async function signIn(page: Page, testInfo: TestInfo, studentNumber: string, password: string) {
  await submitLogin(page, testInfo, studentNumber, password);
  await expect(page).toHaveURL(/\/(hall|password)$/);
  if (page.url().endsWith("/password")) {
    await settled(page, testInfo);
    await expect(page.getByText("首次登录请先修改初始密码")).toBeVisible();
    const fresh = newPasswordFor(studentNumber);
    await page.getByLabel("当前密码").fill(password);
    await page.getByLabel("新密码", { exact: true }).fill(fresh);
    await page.getByLabel("确认新密码").fill(fresh);
    await page.getByRole("button", { name: "确认修改" }).click();
    await expect(page).toHaveURL(/\/login\?changed=1$/);
    await expect(page.getByRole("status")).toHaveText("密码已修改，请使用新密码重新登录。");
    await settled(page, testInfo);
    await submitLogin(page, testInfo, studentNumber, fresh, false);
  }
  await expect(page).toHaveURL(/\/hall$/);
  await expect(page.getByRole("heading", { level: 1, name: "办事大厅" })).toBeVisible();
  await settled(page, testInfo);
}

async function submitLogin(page: Page, testInfo: TestInfo, studentNumber: string, password: string, navigate = true) {
  if (navigate) await open(page, testInfo, "/login");
  await page.getByLabel("学号").fill(studentNumber);
  await page.getByLabel("密码").fill(password);
  await page.getByRole("button", { name: "登录" }).click();
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
