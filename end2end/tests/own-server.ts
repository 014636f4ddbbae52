import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/**
 * A server of our own for one test: the release binary on a fresh database with the demo
 * students, on a free port. For tests that restart the server (a new build), and for
 * tests whose students' state must not meet the other stories of the same project.
 */
export class OwnServer {
  private child?: ChildProcess;
  readonly dir = mkdtempSync(join(tmpdir(), "lixiao-e2e-"));

  private constructor(
    readonly port: number,
    private readonly databaseURL: string,
  ) {}

  get baseURL() {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * `postgres`: a fresh database on the cluster scripts/test started
   * (LIXIAO_TEST_POSTGRES) instead of a SQLite file.
   */
  static async start(env: Record<string, string> = {}, postgres = false): Promise<OwnServer> {
    const port = await freePort();
    const admin = process.env.LIXIAO_TEST_POSTGRES;
    let databaseURL = "";
    if (postgres && admin) {
      const name = `lixiao_e2e_own_${port}_${Date.now()}`;
      execFileSync("psql", ["-q", admin, "-c", `CREATE DATABASE ${name}`]);
      databaseURL = admin.replace(/\/[^/]*$/, `/${name}`);
    }
    const server = new OwnServer(port, databaseURL);
    await server.run(env);
    return server;
  }

  /** Starts the binary (again, on the same port and database) with `env`. */
  async run(env: Record<string, string> = {}) {
    const root = resolve(__dirname, "../..");
    this.child = spawn(join(root, process.env.E2E_SERVER ?? "target/release/server"), [], {
      cwd: root,
      stdio: ["ignore", "ignore", "inherit"],
      env: {
        PATH: process.env.PATH ?? "",
        LEPTOS_SITE_ADDR: `127.0.0.1:${this.port}`,
        LEPTOS_SITE_ROOT: "target/site",
        DATABASE_URL: this.databaseURL || `sqlite://${join(this.dir, "lixiao.db")}`,
        LIXIAO_DEMO_DATA: "1",
        LIXIAO_PLAIN_HTTP: "1",
        RUST_LOG: "warn",
        ...env,
      },
    });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        if ((await fetch(`${this.baseURL}/healthz`)).ok) return;
      } catch {
        // not up yet
      }
      await new Promise((done) => setTimeout(done, 100));
    }
    throw new Error(`the server on port ${this.port} did not come up`);
  }

  /** Stops the server (SIGTERM: it finishes what it is doing and closes the database). */
  async stop() {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((done) => {
      child.once("exit", () => done());
      child.kill("SIGTERM");
    });
  }

  async dispose() {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? done(address.port) : fail()));
    });
  });
}
