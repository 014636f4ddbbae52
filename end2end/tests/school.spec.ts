import { type Page, type TestInfo } from "@playwright/test";
import { expect, test } from "./own-server-fixture";
import { expectNoSidewaysScroll, open, scripted, settled, signIn } from "./support";

// The graduate school's stories and the offices' CSV import. Each changes data, so each
// runs on a server of its own (fresh demo data).

const GRADUATE_SCHOOL = ["gradschool_demo", "Gradschool-demo-2020"] as const;
const LIBRARY = ["library_demo", "Library-demo-2020"] as const;

/** Signs a staff member in; they land on `home` with the heading `title`. */
async function staffSignIn(
  page: Page,
  testInfo: TestInfo,
  [login, password]: readonly [string, string],
  home: RegExp,
  title: string,
) {
  await open(page, testInfo, "/login");
  await page.getByLabel("学号").fill(login);
  await page.getByLabel("密码").fill(password);
  await page.getByRole("button", { name: "登录" }).click();
  await expect(page).toHaveURL(home);
  await expect(page.getByRole("heading", { level: 1, name: title })).toBeVisible();
  await settled(page, testInfo);
}

test("the graduate school revokes 刘洋's departure; she sees why and submits again", async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  await staffSignIn(page, testInfo, GRADUATE_SCHOOL, /\/desk\/overview$/, "研究生院 · 离校总览");
  await page.getByRole("link", { name: "离校名单" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "研究生院 · 离校名单" })).toBeVisible();
  await settled(page, testInfo);
  if (scripted(testInfo)) await expectNoSidewaysScroll(page);
  await page.getByRole("link", { name: "LX202006092020100004" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "离校流程 LX202006092020100004" })).toBeVisible();
  await settled(page, testInfo);
  await page.getByLabel("撤销原因（学生可见）").fill("学位审核未完成，待学院确认后重新提交");
  await page.getByLabel("确认撤销：原离校流程单作废").check();
  await page.getByRole("button", { name: "撤销离校流程" }).click();
  await expect(page.getByRole("status").filter({ hasText: "已撤销。" })).toBeVisible();
  await expect(page.getByText(/由 gradschool_demo 撤销/)).toBeVisible();
  await settled(page, testInfo);

  await page.context().clearCookies();
  await signIn(page, testInfo, "2020100004", "150027");
  await open(page, testInfo, "/clearance");
  await expect(page.getByText(/被研究生院撤销。原因：学位审核未完成/)).toBeVisible();
  await expect(page.getByText("gradschool_demo")).toHaveCount(0);
  if (scripted(testInfo)) await expectNoSidewaysScroll(page);
  const submit = page.getByRole("button", { name: "提交离校流程" });
  await expect(submit).toBeEnabled();
  await submit.click();
  await expect(page.getByRole("status").filter({ hasText: /流程单号 LX\d{8}2020100004-2/ })).toBeVisible();
  await settled(page, testInfo);

  await open(page, testInfo, "/completed");
  const items = page.locator(".done-list li");
  await expect(items).toHaveCount(2);
  await expect(items.nth(0)).toContainText("-2");
  await expect(items.nth(1)).toContainText("已撤销");
  await items.nth(1).getByRole("link", { name: "查看" }).click();
  await expect(page.getByText("已撤销 · 作废")).toBeVisible();
  await expect(page.getByText("此离校流程单已作废")).toBeVisible();
  await expect(page.getByRole("button", { name: "打印" })).toHaveCount(0);
});

test("every count of the overview opens its students, and the list exports for Excel", async ({ page }, testInfo) => {
  await staffSignIn(page, testInfo, GRADUATE_SCHOOL, /\/desk\/overview$/, "研究生院 · 离校总览");
  if (scripted(testInfo)) await expectNoSidewaysScroll(page);
  const finance = page.locator("table").nth(4);
  const total = finance.locator("tr.total");
  // Columns: 待核验, 未通过, 通过, 不涉及, 人工核定.
  const failing = total.locator("td").nth(1).getByRole("link");
  const count = Number(await failing.textContent());
  expect(count).toBeGreaterThan(1);
  await failing.click();
  await expect(page).toHaveURL(/office=finance&state=fail/);
  await expect(
    page.getByRole("heading", { name: `全部学院 · 财务资产部收费管理办公室 未通过：共 ${count} 名` }),
  ).toBeVisible();
  await settled(page, testInfo);
  const liNa = page.getByRole("row").filter({ hasText: "2020100002" });
  await expect(liNa).toContainText("李娜");
  await expect(liNa).toContainText("682.40");
  if (scripted(testInfo)) await expectNoSidewaysScroll(page);

  const href = await page.getByRole("link", { name: /导出此名单/ }).getAttribute("href");
  const file = await page.request.get(href!);
  expect(file.headers()["content-type"]).toBe("text/csv; charset=utf-8");
  const body = await file.body();
  expect([...body.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const lines = body.toString("utf8").trim().split("\r\n");
  expect(lines).toHaveLength(count + 1);
  expect(lines.some((line) => line.startsWith("2020100002,李娜"))).toBe(true);
});

test("the graduate school imports a roster: progress, preview, then the students exist", async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  await staffSignIn(page, testInfo, GRADUATE_SCHOOL, /\/desk\/overview$/, "研究生院 · 离校总览");
  await page.getByRole("link", { name: "导入学生名单" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "研究生院 · 导入学生名单" })).toBeVisible();
  await settled(page, testInfo);
  const roster = [
    "学号,姓名,性别,现在年级,学院,专业,入学日期,离校类别,申请时间,身份证号",
    "2023000001,周一,男,2020级,资源与地球科学学院,地质工程,2020/9/1,毕业离校,2023-06-01,11010519491231002X",
    "2023000002,吴二,女,2020级,资源与地球科学学院,地质工程,2020/9/1,毕业离校,2023-06-01,",
  ].join("\r\n");
  await page.getByLabel("CSV 文件").setInputFiles({ name: "名单.csv", mimeType: "text/csv", buffer: Buffer.from(roster) });
  await page.getByRole("button", { name: "上传并预览" }).click();
  await expect(page).toHaveURL(/\/desk\/roster\?id=/);
  await settled(page, testInfo);
  // Hashing two passwords is quick; without JavaScript the page is reloaded by hand.
  const counts = page.locator(".import-counts");
  for (let tries = 0; tries < 20 && !(await counts.isVisible()); tries++) {
    const refresh = page.getByRole("link", { name: "刷新查看进度" });
    if (!scripted(testInfo) && (await refresh.isVisible())) await refresh.click();
    await page.waitForTimeout(250);
  }
  await expect(counts).toContainText("新增 2 名（创建账号 2 个）");
  await expect(counts).toContainText("名单外 204 名");
  if (scripted(testInfo)) await expectNoSidewaysScroll(page);
  await expect(page.getByLabel("补充名单：只新增和更新，不停用任何学生")).toBeChecked();
  await page.getByLabel("我已核对，确认导入").check();
  await page.getByRole("button", { name: "确认导入" }).click();
  await expect(page.getByRole("status").filter({ hasText: "导入完成：新增 2 名学生（创建账号 2 个）" })).toBeVisible();
  await settled(page, testInfo);

  // 周一 signs in with the last six characters of her ID number.
  await page.context().clearCookies();
  await signIn(page, testInfo, "2023000001", "31002X");
  await open(page, testInfo, "/clearance");
  await expect(page.getByRole("definition").filter({ hasText: "周一" })).toBeVisible();
  await expect(page.getByText("图书馆尚未报送您的数据")).toBeVisible();
});

test("a library clerk imports a CSV from Excel after its preview", async ({ page }, testInfo) => {
  await staffSignIn(page, testInfo, LIBRARY, /\/desk$/, "图书馆工作台");
  await page.getByRole("link", { name: "批量导入（CSV）" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "批量导入（图书馆）" })).toBeVisible();
  await settled(page, testInfo);
  const file = "学号,数据时间,不涉及,未还册数,欠款金额,违章条数,借书证已注销,论文提交状态\r\n2020100003,,,0,0,0,否,审核通过\r\n";
  await page.getByLabel("CSV 文件").setInputFiles({ name: "图书馆.csv", mimeType: "text/csv", buffer: Buffer.from(file) });
  await page.getByRole("button", { name: "上传并预览" }).click();
  await expect(page.locator(".import-counts")).toContainText("更新 1 条");
  await settled(page, testInfo);
  if (scripted(testInfo)) await expectNoSidewaysScroll(page);
  await page.getByLabel("原因（写入每名学生的变更记录）").fill("期末集中核对");
  await page.getByLabel(/我已核对，确认导入/).check();
  await page.getByRole("button", { name: "确认导入" }).click();
  await expect(page.getByRole("status").filter({ hasText: "导入完成：新增 0 条，更新 1 条，未变 0 条。" })).toBeVisible();
  await settled(page, testInfo);
  await open(page, testInfo, "/desk/student/2020100003");
  await expect(page.getByRole("region", { name: "变更记录" })).toContainText("期末集中核对");
});

test("offices and students cannot open the graduate school's pages", async ({ page }, testInfo) => {
  await staffSignIn(page, testInfo, LIBRARY, /\/desk$/, "图书馆工作台");
  for (const path of ["/desk/overview", "/desk/departures", "/desk/roster"]) {
    const response = await open(page, testInfo, path);
    expect(response?.status()).toBe(403);
    await expect(page.getByText("您没有权限进行此操作。")).toBeVisible();
  }
});
