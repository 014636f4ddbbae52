import { test, expect } from "@playwright/test";
import { expectNoSidewaysScroll, office, open, scripted, settled, signIn } from "./support";

test("a wrong password gets one message that does not say which part was wrong", async ({ page }, testInfo) => {
  await open(page, testInfo, "/login");
  await expect(page.getByRole("link", { name: "auth@cumt.edu.cn" })).toHaveAttribute("href", "mailto:auth@cumt.edu.cn");
  await expect(page.getByRole("link", { name: "0516-83592137" }).first()).toHaveAttribute("href", "tel:0516-83592137");
  for (const [number, password] of [
    ["2020100002", "12002x"],
    ["2099999999", "12002X"],
  ]) {
    await page.getByLabel("学号").fill(number);
    await page.getByLabel("密码").fill(password);
    await page.getByRole("button", { name: "登录" }).click();
    await expect(page.getByRole("alert")).toHaveText("学号或密码错误。");
    await settled(page, testInfo);
  }
  await expect(page).toHaveURL(/\/login/);
});

test("王小明 passes all four offices, submits once and prints the slip", async ({ page }, testInfo) => {
  await signIn(page, testInfo, "2020100001", "061234");
  await page.getByRole("link", { name: /研究生离校信息查询/ }).click();
  await expect(page.getByRole("heading", { level: 1, name: "研究生离校信息查询" })).toBeVisible();
  await settled(page, testInfo);
  await expect(page.getByText("申请时间：2020-06-08")).toBeVisible();
  await expect(page.getByRole("definition").filter({ hasText: "王小明" })).toBeVisible();
  for (const name of ["图书馆", "档案馆", "总务部公寓与物业中心", "财务资产部收费管理办公室"]) {
    await expect(office(page, name).locator(".badge")).toHaveText("通过");
  }
  await expect(office(page, "总务部公寓与物业中心")).toContainText("丁二君");
  await expect(office(page, "图书馆").getByRole("link", { name: "0516-83592058" })).toHaveAttribute(
    "href",
    "tel:0516-83592058",
  );
  if (scripted(testInfo)) await expectNoSidewaysScroll(page);

  const submit = page.getByRole("button", { name: "提交离校流程" });
  await expect(submit).toBeEnabled();
  await submit.click();
  await expect(page.getByRole("status")).toContainText("离校流程已于");
  await expect(page.getByRole("button", { name: "提交离校流程" })).toHaveCount(0);
  await settled(page, testInfo);

  await page.getByRole("link", { name: "查看并打印离校流程单" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "研究生离校流程单" })).toBeVisible();
  await expect(page.getByText(/LX\d{8}2020100001/)).toBeVisible();
  await expect(page.getByText("研究生凭打印出的离校流程单领取毕业证学位证", { exact: false })).toBeVisible();
  await expect(page.locator(".slip .badge.pass")).toHaveCount(4);
  if (scripted(testInfo)) await expectNoSidewaysScroll(page);

  // Printed: no navigation, black on white.
  await page.emulateMedia({ media: "print" });
  await expect(page.locator(".site-header")).toBeHidden();
  await expect(page.getByRole("button", { name: "打印" })).toBeHidden();
  await page.emulateMedia({ media: "screen" });

  await open(page, testInfo, "/completed");
  await expect(page.getByRole("listitem").filter({ hasText: "研究生离校信息查询" })).toContainText("2020100001");
});

test("李娜 sees housing and finance fail with 682.40 owed, and cancels her library card", async ({ page }, testInfo) => {
  await signIn(page, testInfo, "2020100002", "12002X");
  await open(page, testInfo, "/clearance");
  await expect(office(page, "档案馆").locator(".badge")).toHaveText("通过");
  const housing = office(page, "总务部公寓与物业中心");
  await expect(housing.locator(".badge")).toHaveText("未通过");
  await expect(housing).toContainText("A3071");
  await expect(housing).toContainText("请在各宿舍公寓管理员处办理退宿");
  const finance = office(page, "财务资产部收费管理办公室");
  await expect(finance.locator(".badge")).toHaveText("未通过");
  await expect(finance.getByRole("row")).toContainText(["代收取暖费", "学分学费", "代收取暖费"]);
  await expect(finance.locator(".total")).toHaveText("682.40");
  await expect(page.getByRole("button", { name: "提交离校流程" })).toBeDisabled();
  await expect(page.getByText(/以下事项未通过.*总务部公寓与物业中心、财务资产部收费管理办公室/)).toBeVisible();
  if (scripted(testInfo)) await expectNoSidewaysScroll(page);

  const library = office(page, "图书馆");
  await expect(library.locator(".badge")).toHaveText("未通过");
  await expect(library).toContainText("未注销");
  await library.getByRole("button", { name: "注销" }).click();
  const dialog = page.getByRole("dialog", { name: "确定注销借书证吗？" });
  await expect(dialog).toBeVisible();
  await settled(page, testInfo);
  await dialog.getByRole("button", { name: "确认注销" }).click();
  await expect(library).toContainText("已注销");
  await expect(library.locator(".badge")).toHaveText("通过");
  await expect(library.getByRole("button", { name: "注销" })).toHaveCount(0);
});

test("张伟 fails the library and archives, passes housing and finance, and cannot cancel the card", async ({ page }, testInfo) => {
  await signIn(page, testInfo, "2020100003", "2020100003");
  await open(page, testInfo, "/clearance");
  const library = office(page, "图书馆");
  await expect(library.locator(".badge")).toHaveText("未通过");
  await expect(library).toContainText("已提交");
  const archives = office(page, "档案馆");
  await expect(archives.locator(".badge")).toHaveText("未通过");
  await expect(archives).toContainText("请线下去档案馆提交论文");
  await expect(office(page, "总务部公寓与物业中心").locator(".badge")).toHaveText("通过");
  await expect(office(page, "总务部公寓与物业中心")).toContainText("未在学校住宿");
  await expect(office(page, "财务资产部收费管理办公室").locator(".badge")).toHaveText("通过");
  await expect(page.getByRole("button", { name: "提交离校流程" })).toBeDisabled();
  await expect(page.getByText(/以下事项未通过.*图书馆、档案馆/)).toBeVisible();

  await library.getByRole("button", { name: "注销" }).click();
  await expect(library.getByRole("alert")).toContainText("无法注销借书证");
  await expect(library.getByRole("alert")).toContainText("0516-83592058");
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await expect(library).toContainText("未注销");
});

test("刘洋 finds her submitted departure in 个人中心 and opens the slip", async ({ page }, testInfo) => {
  await signIn(page, testInfo, "2020100004", "150027");
  await page.getByRole("link", { name: /已完成事项/ }).first().click();
  await expect(page.getByRole("heading", { name: "已完成事项" })).toBeVisible();
  const item = page.getByRole("listitem").filter({ hasText: "研究生离校信息查询" });
  await expect(item).toContainText("2020-06-09 10:21:37");
  await settled(page, testInfo);
  await item.getByRole("link", { name: "查看并打印" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "研究生离校流程单" })).toBeVisible();
  await expect(page.getByText("LX202006092020100004")).toBeVisible();
  await expect(page.getByRole("definition").filter({ hasText: "刘洋" })).toBeVisible();

  await open(page, testInfo, "/clearance");
  await expect(page.getByRole("status")).toContainText("2020-06-09 10:21:37");
  await expect(page.getByRole("button", { name: "提交离校流程" })).toHaveCount(0);

  await page.getByRole("button", { name: "退出" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await open(page, testInfo, "/clearance");
  await expect(page).toHaveURL(/\/login$/);
});
