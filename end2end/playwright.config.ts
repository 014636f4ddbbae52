import { defineConfig, devices } from "@playwright/test";

// Each project gets its own server on its own port and its own fresh database with the
// demo students, so stories that change data (submitting, cancelling the card) never
// meet across projects. A developer's running app (port 3000, data/) is never touched.
const FIRST_PORT = Number(process.env.E2E_PORT ?? 3101);
// The server binary: the release build, unless scripts/test names the one `cargo test`
// built (the same code, already compiled; see scripts/build --dev).
const SERVER = process.env.E2E_SERVER ?? "target/release/server";

// Debian's Chromium; Playwright never downloads a browser on these machines.
const chromium = {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
  ],
};

// A small Android phone: 360 CSS pixels wide, the narrowest we promise to fit.
const phone = { ...devices["Pixel 7"], viewport: { width: 360, height: 780 } };

// When scripts/test has started a PostgreSQL cluster (LIXIAO_TEST_POSTGRES), one more
// project runs the stories that read and write data on desktop against PostgreSQL (its
// own servers, see own-server-fixture.ts, too).
const postgres = process.env.LIXIAO_TEST_POSTGRES;

// Where a project leaves out what another project already proves (the suite is a third of
// a CI run on 2 cores): the accessibility checks run on the desktop and the phone with
// script and on the phone without (the markup without script is the same at either
// width); on PostgreSQL the data stories run (the page's markup, the installed app and
// the shell do not depend on the database, and the Rust suite runs every server test on
// PostgreSQL too).
const variants: {
  name: string;
  device: (typeof devices)[string];
  javaScriptEnabled: boolean;
  testIgnore?: RegExp;
  testMatch?: RegExp;
}[] = [
  { name: "desktop", device: devices["Desktop Chrome"], javaScriptEnabled: true },
  { name: "phone", device: phone, javaScriptEnabled: true },
  {
    name: "desktop-nojs",
    device: devices["Desktop Chrome"],
    javaScriptEnabled: false,
    testIgnore: /a11y\.spec\.ts$/,
  },
  { name: "phone-nojs", device: phone, javaScriptEnabled: false },
  ...(postgres
    ? [
        {
          name: "desktop-postgres",
          device: devices["Desktop Chrome"],
          javaScriptEnabled: true,
          testMatch: /(students|desk|school|verify)\.spec\.ts$/,
        },
      ]
    : []),
];
const projects = variants.map((variant, index) => ({ ...variant, port: FIRST_PORT + index }));

// Each project's fresh database: a SQLite file, or a new PostgreSQL database.
function database(name: string): { prepare: string; url: string } {
  if (name.endsWith("-postgres") && postgres) {
    const database = `lixiao_e2e_${name.replace(/-/g, "_")}`;
    return {
      prepare: `psql -q "${postgres}" -c "DROP DATABASE IF EXISTS ${database}" -c "CREATE DATABASE ${database}"`,
      url: postgres.replace(/\/[^/]*$/, `/${database}`),
    };
  }
  return {
    prepare: `rm -rf target/e2e/${name} && mkdir -p target/e2e/${name}`,
    url: `sqlite://target/e2e/${name}/lixiao.db`,
  };
}

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 2,
  reporter: [["list"], ["html", { open: "never" }]],
  use: {
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    locale: "zh-CN",
    timezoneId: "Asia/Shanghai",
  },
  projects: projects.map(({ name, device, javaScriptEnabled, port, testIgnore, testMatch }) => ({
    name,
    ...(testIgnore ? { testIgnore } : {}),
    ...(testMatch ? { testMatch } : {}),
    use: {
      ...device,
      javaScriptEnabled,
      baseURL: `http://127.0.0.1:${port}`,
      launchOptions: chromium,
    },
  })),
  webServer: projects.map(({ name, port }) => ({
    cwd: "..",
    command: `${database(name).prepare} && exec ${SERVER}`,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore" as const,
    stderr: "pipe" as const,
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: "target/site",
      DATABASE_URL: database(name).url,
      LIXIAO_DEMO_DATA: "1",
      LIXIAO_PLAIN_HTTP: "1",
      RUST_LOG: "warn",
    },
  })),
});
