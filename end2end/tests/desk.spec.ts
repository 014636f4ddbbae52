import { type Page, type TestInfo } from "@playwright/test";
import { expect, test } from "./own-server-fixture";
import { expectNoSidewaysScroll, office, open, scripted, settled, signIn } from "./support";

// Every story here changes data, so each runs on a server of its own (fresh demo data).

const LIBRARY = ["library_demo", "Library-demo-2020"] as const;
const FINANCE = ["finance_demo", "Finance-demo-2020"] as const;

/** Signs a staff member in through the same form students use; they land on their desk. */
async function staffSignIn(page: Page, testInfo: TestInfo, [login, password]: readonly [string, string], desk: string) {
  await open(page, testInfo, "/login");
  await page.getByLabel("学号").fill(login);
  await page.getByLabel("密码").fill(password);
  await page.getByRole("button", { name: "登录" }).click();
  await expect(page).toHaveURL(/\/desk$/);
  await expect(page.getByRole("heading", { level: 1, name: desk })).toBeVisible();
  await settled(page, testInfo);
}

/** Opens a student from the desk's search, as a clerk would. */
async function findStudent(page: Page, testInfo: TestInfo, query: string, number: string) {
  await page.getByLabel("学号或姓名").fill(query);
  await page.getByRole("button", { name: "查询" }).click();
  await expect(page.getByText("共 1 名学生")).toBeVisible();
  await settled(page, testInfo);
  await page.getByRole("link", { name: number }).click();
  await expect(page).toHaveURL(new RegExp(`/desk/student/${number}`));
  await settled(page, testInfo);
}

/** Fills the reason, ticks 确认保存 and presses `button` inside `scope`. */
async function confirmWith(scope: ReturnType<Page["locator"]>, reason: string, button: string) {
  await scope.getByLabel("原因（必填）").fill(reason);
  await scope.getByLabel("我已核对以上内容，确认保存").check();
  await scope.getByRole("button", { name: button }).click();
}

test("a library clerk records 张伟's returns one by one; he then cancels his card and passes", async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  await staffSignIn(page, testInfo, LIBRARY, "图书馆工作台");
  if (scripted(testInfo)) await expectNoSidewaysScroll(page);
  await findStudent(page, testInfo, "张伟", "2020100003");
  const state = page.getByRole("region", { name: "本部门核验状态" });
  await expect(state.locator(".badge")).toHaveText("未通过");
  const form = page.getByRole("region", { name: "更新本部门数据" });

  const steps: [string, () => Promise<void>, string][] = [
    ["归还 2 册图书", () => form.getByLabel("图书状态 · 未还册数").fill("0"), "还清图书"],
    ["缴清 3.50 元欠款", () => form.getByLabel("欠费情况 · 欠款金额(元)").fill("0"), "缴清欠款"],
    ["违章已处理", () => form.getByLabel("违章状态 · 违章条数").fill("0"), "处理违章"],
    ["论文审核通过", () => form.getByLabel("论文提交状态").selectOption("approved"), "论文通过"],
  ];
  for (const [reason, change] of steps) {
    await change();
    await confirmWith(form, reason, "保存数据");
    await expect(page.getByRole("status").filter({ hasText: "已保存。" })).toBeVisible();
    await settled(page, testInfo);
    // Alone, no single change makes the library pass: the card is still not cancelled.
    await expect(state.locator(".badge")).toHaveText("未通过");
    await expect(page.getByRole("region", { name: "变更记录" })).toContainText(reason);
  }
  await expect(state).toContainText("请点击“注销”按钮注销借书证");
  if (scripted(testInfo)) await expectNoSidewaysScroll(page);

  // 张伟 now cancels his card himself; the library turns green.
  await page.context().clearCookies();
  await signIn(page, testInfo, "2020100003", "2020100003");
  await open(page, testInfo, "/clearance");
  const library = office(page, "图书馆");
  await expect(library.locator(".badge")).toHaveText("未通过");
  await expect(page.getByRole("region", { name: "变更记录" })).toContainText("论文审核通过");
  await expect(page.getByRole("region", { name: "变更记录" })).toContainText("图书馆");
  await expect(page.getByRole("region", { name: "变更记录" })).not.toContainText("library_demo");
  await library.getByRole("button", { name: "注销" }).click();
  const dialog = page.getByRole("dialog", { name: "确定注销借书证吗？" });
  await settled(page, testInfo);
  await dialog.getByRole("button", { name: "确认注销" }).click();
  await expect(library).toContainText("已注销");
  await open(page, testInfo, "/clearance");
  await expect(office(page, "图书馆").locator(".badge")).toHaveText("通过");
});

test("a finance clerk overrides 李娜's arrears with a reason, and she sees the reason", async ({ page }, testInfo) => {
  await staffSignIn(page, testInfo, FINANCE, "财务资产部收费管理办公室工作台");
  await findStudent(page, testInfo, "2020100002", "2020100002");
  await expect(page.getByRole("region", { name: "更新本部门数据" })).toContainText("");
  await page.getByText("人工核定通过或未通过").click();
  const standing = page.getByRole("region", { name: "不涉及 / 人工核定" });
  await standing.getByLabel("核定结果").selectOption("override_pass");
  await confirmWith(standing.locator("details").nth(1), "经处长批准减免 2019 学年学费", "保存核定");
  await expect(page.getByRole("status").filter({ hasText: "已保存。" })).toBeVisible();
  await expect(page.getByRole("region", { name: "本部门核验状态" })).toContainText("经处长批准减免");
  await settled(page, testInfo);

  await page.context().clearCookies();
  await signIn(page, testInfo, "2020100002", "12002X");
  await open(page, testInfo, "/clearance");
  const finance = office(page, "财务资产部收费管理办公室");
  await expect(finance.locator(".badge")).toHaveText("通过");
  await expect(finance).toContainText("财务资产部收费管理办公室核定通过：经处长批准减免 2019 学年学费");
  await expect(finance.locator(".total")).toHaveText("682.40");
  if (scripted(testInfo)) await expectNoSidewaysScroll(page);
});

test("a save over someone else's newer save is refused with the current values", async ({ page, browser, own }, testInfo) => {
  await staffSignIn(page, testInfo, LIBRARY, "图书馆工作台");
  await open(page, testInfo, "/desk/student/2020100003");
  // A second clerk opens the same student and saves first.
  const other = await browser.newContext({ ...testInfo.project.use, baseURL: own.baseURL });
  const second = await other.newPage();
  await staffSignIn(second, testInfo, LIBRARY, "图书馆工作台");
  await open(second, testInfo, "/desk/student/2020100003");
  const secondForm = second.getByRole("region", { name: "更新本部门数据" });
  await secondForm.getByLabel("图书状态 · 未还册数").fill("1");
  await confirmWith(secondForm, "还了一本", "保存数据");
  await expect(second.getByRole("status").filter({ hasText: "已保存。" })).toBeVisible();
  await other.close();

  const form = page.getByRole("region", { name: "更新本部门数据" });
  await form.getByLabel("图书状态 · 未还册数").fill("0");
  await confirmWith(form, "全部还清", "保存数据");
  await expect(page.getByRole("alert")).toContainText("已被他人修改");
  await expect(page.getByRole("alert")).toContainText("未还 1 册");
  await open(page, testInfo, "/desk/student/2020100003");
  await expect(page.getByRole("region", { name: "更新本部门数据" }).getByLabel("图书状态 · 未还册数")).toHaveValue("1");
});

test("a student cannot open a desk", async ({ page }, testInfo) => {
  await signIn(page, testInfo, "2020100001", "061234");
  for (const path of ["/desk", "/desk/student/2020100002"]) {
    const response = await open(page, testInfo, path);
    expect(response?.status()).toBe(403);
    await expect(page.getByText("您没有权限进行此操作。")).toBeVisible();
    await expect(page.getByText("李娜")).toHaveCount(0);
  }
});

test("a housing clerk checks out 50 students in one batch, previewed with the count", async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  await staffSignIn(page, testInfo, ["housing_demo", "Housing-demo-2020"], "总务部公寓与物业中心工作台");
  await page.getByLabel("状态").selectOption("fail");
  await page.getByRole("button", { name: "查询" }).click();
  await expect(page).toHaveURL(/status=fail/);
  // The filtered list has replaced the whole one (with JavaScript it arrives after the URL).
  await expect(page.locator('tr[data-status]:not([data-status="fail"])')).toHaveCount(0);
  await settled(page, testInfo);
  const before = Number((await page.getByText(/共 \d+ 名学生/).textContent())?.match(/共 (\d+) 名/)?.[1]);
  expect(before).toBeGreaterThan(50);
  const boxes = page.getByRole("checkbox", { name: /^选择 / });
  await expect(boxes).toHaveCount(50);
  for (const box of await boxes.all()) await box.check();
  const batch = page.getByRole("group", { name: "批量操作" });
  await batch.getByLabel("操作").selectOption("checked_out");
  await batch.getByLabel("退宿日期（办理退宿时填写）").fill("2020-06-10");
  await batch.getByLabel("退宿办理人（办理退宿时填写）").fill("丁二君");
  await batch.getByLabel("原因（必填）").fill("六月集中退宿");
  if (scripted(testInfo)) await expectNoSidewaysScroll(page);
  await batch.getByRole("button", { name: "预览" }).click();

  await expect(page.getByRole("heading", { level: 1, name: "批量操作预览" })).toBeVisible();
  await expect(page.getByRole("status")).toHaveText("将对 50 名学生执行：办理退宿（退宿日期 2020-06-10，办理人 丁二君）。");
  await settled(page, testInfo);
  await page.getByLabel("我已核对，确认对这 50 名学生执行").check();
  await page.getByRole("button", { name: "确认执行" }).click();
  await expect(page.getByRole("status").filter({ hasText: "批量操作已完成：共 50 名学生。" })).toBeVisible();
  await settled(page, testInfo);

  await open(page, testInfo, "/desk?status=fail");
  await expect(page.getByText(`共 ${before - 50} 名学生`)).toBeVisible();
});
