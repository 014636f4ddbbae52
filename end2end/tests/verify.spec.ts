import { expect, test } from "./own-server-fixture";
import { expectNoSidewaysScroll, open, settled, signIn } from "./support";

// Each story on a server of its own: fresh demo data, where 刘洋 has submitted.

test("a checker opens the link printed on 刘洋's slip, then types its serial", async ({ page }, testInfo) => {
  await signIn(page, testInfo, "2020100004", "150027");
  await open(page, testInfo, "/completed/slip");
  const qr = page.getByRole("img", { name: "离校流程单验证二维码" });
  await expect(qr).toBeVisible();
  // Big enough to scan from a phone screen.
  expect((await qr.boundingBox())?.width ?? 0).toBeGreaterThanOrEqual(120);
  await expect(page.getByText("研究生凭打印出的离校流程单领取毕业证学位证")).toBeVisible();
  const link = (await page.locator(".slip-qr-link").textContent())?.trim() ?? "";
  const serial = (await page.locator(".slip-serial").textContent())?.trim() ?? "";
  expect(serial).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
  expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/verify\/[0-9A-Z]{16}\.demo-[0-9A-Z]{16}$/);
  expect(link).toContain(serial.replace(/-/g, ""));

  // The checker's phone: nobody signed in.
  await page.context().clearCookies();
  await open(page, testInfo, link);
  await expect(page.getByRole("heading", { level: 1, name: "离校流程单验证" })).toBeVisible();
  const answer = page.locator(".verify-result");
  await expect(answer).toContainText("有效");
  await expect(answer).toContainText("刘*");
  await expect(answer).toContainText("2020****04");
  await expect(answer).toContainText("2020-06-09");
  await expect(page.getByText("刘洋")).toHaveCount(0);
  await expectNoSidewaysScroll(page);

  // Typed as read aloud: lower case, no dashes.
  await page.getByLabel("防伪编号").fill(serial.replace(/-/g, "").toLowerCase());
  await page.getByRole("button", { name: "验证" }).click();
  await expect(page).toHaveURL(/\/verify\?serial=/);
  await settled(page, testInfo);
  await expect(page.locator(".verify-result")).toContainText("2020****04");

  // A doctored printout: a serial nobody was given.
  await page.getByLabel("防伪编号").fill("7K2M-9QX4-HDR3-PZ8W");
  await page.getByRole("button", { name: "验证" }).click();
  await expect(page.locator(".verify-result")).toContainText("未找到此离校流程单");
});
