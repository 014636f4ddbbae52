"""Runs the departure-day benchmark's scenarios against a running server and prints one
table (see scripts/bench, which builds, seeds and starts the server first).

Single endpoints are driven by wrk (its latency percentiles are exact); the scripted
departure day by Locust. During each scenario the server's resident memory is sampled
from /proc every 50 ms; the table gives the peak.
"""

import argparse
import gzip
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
PASSWORD = "Bench-password-2026"


def number(index):
    return f"2026{index:06d}"


class RssSampler:
    """The server's peak resident set (VmRSS) while a scenario runs."""

    def __init__(self, pid):
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _read(self):
        try:
            with open(f"/proc/{self.pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) // 1024
        except OSError:
            return 0
        return 0

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._read())
            time.sleep(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._read())


def request(base, path, method="GET", data=None, headers=None, cookie=None):
    """One plain HTTP request (no redirects followed): status, headers, body."""
    parsed = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    all_headers = dict(headers or {})
    if cookie:
        all_headers["Cookie"] = cookie
    body = None
    if data is not None:
        body = urllib.parse.urlencode(data)
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body=body, headers=all_headers)
    response = connection.getresponse()
    payload = response.read()
    result = (response.status, {k.lower(): v for k, v in response.getheaders()}, payload)
    connection.close()
    return result


def sign_in(base, index):
    status, headers, _ = request(
        base,
        "/api/login",
        "POST",
        {"student_number": number(index), "password": PASSWORD},
        {"Accept": "text/html"},
    )
    cookie = headers.get("set-cookie", "").split(";")[0]
    if status not in (302, 303) or not cookie:
        sys.exit(f"cannot sign {number(index)} in: HTTP {status}")
    return cookie


def parse_wrk(output):
    """Requests, req/s, p50/p90/p99 (ms) and errors from wrk's --latency output."""

    def ms(text):
        value = float(re.match(r"[\d.]+", text).group())
        if text.endswith("us"):
            return value / 1000
        if text.endswith("ms"):
            return value
        if text.endswith("s"):
            return value * 1000
        return value

    percentiles = dict(re.findall(r"^\s+(50|90|99)(?:\.000)?%\s+(\S+)", output, re.M))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = 0
    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_ok:
        errors += int(non_ok.group(1))
    # status.lua's count (a redirect, e.g. an expired session sent to /login, is an error
    # here) or login.lua's (a sign-in that did not lead into the service hall).
    not_ok = re.search(r"answers other than (?:200|a sign-in): (\d+)", output)
    if not_ok:
        errors = max(errors, int(not_ok.group(1)))
    retried = re.search(r"told to retry later: (\d+)", output)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket:
        errors += sum(int(n) for n in socket.groups())
    return {
        "requests": requests,
        "rate": rate,
        "p50": ms(percentiles["50"]),
        "p90": ms(percentiles["90"]),
        "p99": ms(percentiles["99"]),
        "errors": errors,
        "retry": int(retried.group(1)) if retried else 0,
    }


def wrk(args, base, path, connections, duration, script=None, env=None):
    threads = min(args.threads, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "30s"]
    if script:
        command += ["-s", str(script)]
    command.append(base + path)
    with RssSampler(args.pid) as rss:
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if done.returncode != 0:
        sys.exit(f"wrk failed: {done.stderr}{done.stdout}")
    result = parse_wrk(done.stdout)
    result["rss"] = rss.peak
    return result


def locust(args, base, students):
    out = Path(tempfile.mkdtemp(prefix="lixiao-locust-"))
    report = out / "day.json"
    env = {
        **os.environ,
        "BENCH_STUDENTS": str(args.students),
        "BENCH_FIRST_STUDENT": str(args.first_day_student),
        "BENCH_DAY_STUDENTS": str(students),
        "BENCH_DAY_REPORT": str(report),
    }
    command = [
        args.locust,
        "-f",
        str(HERE / "departure_day.py"),
        "--headless",
        "--host",
        base,
        "-u",
        str(students + 2),  # and the two office systems
        "-r",
        str(args.arrivals),
        "--run-time",
        f"{args.day_seconds}s",
        "--only-summary",
        "--stop-timeout",
        "10",
    ]
    started = time.monotonic()
    with RssSampler(args.pid) as rss:
        done = subprocess.run(command, capture_output=True, text=True, env=env)
    args.day_elapsed = time.monotonic() - started
    if not report.exists():
        sys.exit(f"locust failed (exit {done.returncode}): {done.stderr[-2000:]}")
    day = json.loads(report.read_text())
    rows = []
    # Locust's own names, in its order (by name), the whole day last.
    named = sorted(day["stats"].items()) + [("departure day, all requests", day["total"])]
    for name, figures in named:
        rows.append((f"day: {name}", {**figures, "retry": 0, "rss": rss.peak}))
    args.day_retries = {"told": day["told"], "per_student": day["per_student"]}
    shutil.rmtree(out, ignore_errors=True)
    return rows


def transfer_sizes(base, cookie, site_root):
    """What a phone downloads for the clearance page the first time (compressed as the
    server sends it), and the WebAssembly bundle's sizes."""
    accept = {"Accept-Encoding": "br, gzip", "Accept": "text/html"}
    status, headers, page = request(base, "/clearance", headers=accept, cookie=cookie)
    html_plain = request(base, "/clearance", headers={"Accept": "text/html"}, cookie=cookie)[2]
    text = html_plain.decode("utf-8", "replace")
    assets = sorted(set(re.findall(r'(?:href|src)="(/(?:pkg|icons)/[^"]+|/pwa\.js|/favicon\.svg|/manifest\.webmanifest)"', text)))
    # The WASM is loaded by the hydration script, not by a tag.
    for match in re.findall(r"['\"](/pkg/[^'\"]+?)['\"]", text):
        if match not in assets:
            assets.append(match)
    wasm = [a for a in assets if a.endswith(".wasm")]
    if not wasm:
        js = next((a for a in assets if a.endswith(".js") and a.startswith("/pkg/")), None)
        if js:
            wasm = [js[: -len(".js")] + ".wasm"]
            assets += wasm
    total = len(page)
    parts = [("HTML /clearance", len(page), headers.get("content-encoding", "identity"))]
    for asset in assets:
        status, headers, body = request(base, asset, headers={"Accept-Encoding": "br, gzip"})
        if status != 200:
            continue
        parts.append((asset, len(body), headers.get("content-encoding", "identity")))
        total += len(body)
    # Then the service worker installs: sw.js and the files it keeps. The hashed bundle
    # comes from the HTTP cache the page just filled (no second download); the others are
    # fetched from the server.
    status, headers, worker = request(base, "/sw.js", headers={"Accept-Encoding": "br, gzip"})
    if status == 200:
        parts.append(("/sw.js (service worker)", len(worker), headers.get("content-encoding", "identity")))
        total += len(worker)
        plain_worker = request(base, "/sw.js")[2].decode("utf-8", "replace")
        listed = re.search(r"STATIC_FILES = \[(.*?)\];", plain_worker, re.S)
        for path in re.findall(r'"(/[^"]+)"', listed.group(1) if listed else ""):
            if path in assets or re.search(r"/pkg/lixiao\.[A-Za-z0-9_-]{16,}\.(js|wasm|css)$", path):
                continue
            status, headers, body = request(base, path, headers={"Accept-Encoding": "br, gzip"})
            if status == 200:
                parts.append((f"{path} (worker install)", len(body), headers.get("content-encoding", "identity")))
                total += len(body)
    wasm_file = None
    if wasm:
        candidate = Path(site_root) / wasm[0].lstrip("/")
        if candidate.exists():
            # The bundle and the copies the server sends (made at build time).
            wasm_file = {"raw": candidate.read_bytes()}
            for encoding in ("gz", "br"):
                copy = candidate.with_name(candidate.name + "." + encoding)
                if copy.exists():
                    wasm_file[encoding] = copy.stat().st_size
    return parts, total, wasm_file, len(html_plain)


def query(url, sql):
    if url.startswith("sqlite://"):
        import sqlite3

        path = url[len("sqlite://"):].split("?")[0]
        with sqlite3.connect(path) as db:
            return int(db.execute(sql).fetchone()[0])
    done = subprocess.run(["psql", "-At", url, "-c", sql], capture_output=True, text=True)
    return int(done.stdout.strip())


def check_exactly_once(url, submits, before, cut_off):
    """The departures stored against what the day did: one per successful submit (beyond
    the `before` the seed made), none twice for a student, and every second submit refused.
    A day cut off at --day-seconds may have stopped a submit after the server stored it and
    before Locust counted it: then at least one per successful submit."""
    stored = query(url, "SELECT COUNT(*) FROM departures") - before
    doubled = query(
        url,
        "SELECT COUNT(*) FROM (SELECT student_number FROM departures WHERE revoked_at IS NULL "
        "GROUP BY student_number HAVING COUNT(*) > 1) AS twice",
    )
    ok = (stored >= submits if cut_off else stored == submits) and doubled == 0
    print(
        f"departures stored by the day: {stored}; successful submits: {submits}; students with two: {doubled}"
        f"{' (the day was cut off)' if cut_off else ''} -> {'exactly once' if ok else 'NOT EXACTLY ONCE'}"
    )
    return ok, stored


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--pid", required=True, type=int)
    parser.add_argument("--site-root", required=True)
    parser.add_argument("--students", type=int, default=20000)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--signed-in", type=int, default=200)
    parser.add_argument("--day-students", type=int, default=0, help="default: every student the other scenarios left alone")
    parser.add_argument("--arrivals", type=float, default=60)
    parser.add_argument("--day-seconds", type=int, default=0, help="at most; default: the arrivals' time plus 300 s")
    parser.add_argument("--locust", default="locust")
    parser.add_argument("--database-url", default="", help="to count the departures stored")
    args = parser.parse_args()
    base = args.base.rstrip("/")
    # The scripted day uses students the single-endpoint scenarios never touched, and
    # none of those the seed gave departures (the first 1,200: bench_seed's WITH_DEPARTURES).
    if args.signed_in < 200:
        sys.exit("--signed-in must be at least 200: the seed's departures are among the first 1,200 students")
    args.first_day_student = args.signed_in + 1000
    if not args.day_students:
        args.day_students = args.students - args.first_day_student
    if not 0 < args.day_students <= args.students - args.first_day_student:
        sys.exit(
            f"--day-students must be between 1 and {args.students - args.first_day_student}: the day's students are"
            f" the seed's after the first {args.first_day_student} (the page scenarios' and the storm's)"
        )
    if not args.day_seconds:
        # Room for a backlog: when more arrive than the server can sign in, the ones told
        # to come back later get in after the arrivals end.
        args.day_seconds = int(args.day_students / args.arrivals) + 300

    print(f"signing {args.signed_in} students in for the page scenarios …", flush=True)
    cookies = [sign_in(base, index) for index in range(args.signed_in)]
    work = Path(tempfile.mkdtemp(prefix="lixiao-bench-"))
    (work / "cookies.txt").write_text("\n".join(cookies) + "\n")

    # A static file of exactly the clearance page's bytes, served by the same server.
    page = request(base, "/clearance", headers={"Accept": "text/html"}, cookie=cookies[0])[2]
    static = Path(args.site_root) / "bench-static.html"
    static.write_bytes(page)

    results = []
    env = {
        "BENCH_COOKIES": str(work / "cookies.txt"),
        "BENCH_STUDENTS": str(args.students),
        "BENCH_DIR": str(HERE),
    }
    scenarios = [
        ("static file, same bytes", "/bench-static.html", args.connections, HERE / "static.lua"),
        ("static file, 1 connection", "/bench-static.html", 1, HERE / "static.lua"),
        ("clearance page (signed in)", "/clearance", args.connections, HERE / "page.lua"),
        ("clearance server function", "/api/clearance", args.connections, HERE / "api.lua"),
    ]
    for name, path, connections, script in scenarios:
        print(f"running: {name} …", flush=True)
        results.append((name, wrk(args, base, path, connections, args.duration, script, env)))
    print("running: sign-in storm …", flush=True)
    storm_env = {**env, "BENCH_FIRST": str(args.signed_in), "BENCH_COUNT": "1000"}
    results.append(("sign-in storm (argon2)", wrk(args, base, "/api/login", args.connections, 10, HERE / "login.lua", storm_env)))
    static.unlink(missing_ok=True)

    seeded_departures = query(args.database_url, "SELECT COUNT(*) FROM departures") if args.database_url else 0
    print(f"running: departure day, {args.day_students} students arriving at {args.arrivals}/s …", flush=True)
    results += locust(args, base, args.day_students)

    parts, total, wasm, html_bytes = transfer_sizes(base, cookies[0], args.site_root)

    print()
    # "retry": sign-ins answered at once "too many signing in, try again in N seconds"
    # (Retry-After) because the password checks already waiting would take too long.
    print(f"{'scenario':<44} {'requests':>9} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'errors':>7} {'retry':>6} {'peak RSS':>9}")
    for name, r in results:
        print(
            f"{name:<44} {r['requests']:>9} {r['rate']:>9.1f} {r['p50']:>8.1f} {r['p90']:>8.1f} {r['p99']:>8.1f} {r['errors']:>7} {r['retry']:>6} {r['rss']:>6} MiB"
        )
    page_rate = next(r["rate"] for n, r in results if n.startswith("clearance page"))
    static_rate = results[0][1]["rate"]
    print()
    print(f"clearance page: {page_rate / static_rate * 100:.1f} % of the static file's throughput ({html_bytes} bytes each)")
    day = dict(results)
    signed_in = day.get("day: sign in", {"requests": 0, "errors": 0})
    retried = day.get("day: sign in: told to retry", {"requests": 0})["requests"]
    # Locust stops itself when the last student is through; otherwise --day-seconds cut it.
    arriving = args.day_students / args.arrivals
    ended = "the last student was through" if args.day_elapsed < args.day_seconds else "cut off at --day-seconds"
    print(
        f"departure day: {signed_in['requests'] - signed_in['errors']:,} of {args.day_students:,} students signed in;"
        f" they arrived over {arriving / 60:.1f} minutes ({args.arrivals:g}/s) and {ended}"
        f" {args.day_elapsed / 60:.1f} minutes after the start (Locust's start-up included);"
        f" {retried:,} sign-ins were told to come back later (the server was busy)"
    )
    retries = args.day_retries or {}
    told = sorted(retries.get("told", []))
    if told:
        per_student = retries.get("per_student", [])
        print(
            f"told to come back after (Retry-After): p50 {told[len(told) // 2]} s,"
            f" p90 {told[len(told) * 9 // 10]} s, longest {told[-1]} s;"
            f" {len(per_student):,} students were told at least once,"
            f" {sum(1 for n in per_student if n > 1):,} more than once (at most {max(per_student)} times)"
        )
    if wasm:
        served = "".join(f", {wasm[e]:,} {name} as served" for e, name in (("gz", "gzip"), ("br", "brotli")) if e in wasm)
        print(
            f"WebAssembly bundle: {len(wasm['raw']):,} bytes raw, {len(gzip.compress(wasm['raw'], 9)):,} at gzip -9{served}"
        )
    print(f"first load of the clearance page, the service worker's install included: {total:,} bytes transferred")
    for asset, size, encoding in parts:
        print(f"    {asset:<48} {size:>9,} bytes ({encoding})")
    exact = True
    if args.database_url:
        print()
        submit = day.get("day: submit", {"requests": 0, "errors": 0})
        again = day.get("day: submit again (refused)", {"requests": 0, "errors": 0})
        cut_off = args.day_elapsed >= args.day_seconds
        exact, stored = check_exactly_once(args.database_url, submit["requests"] - submit["errors"], seeded_departures, cut_off)
        print(f"second submits refused as 409: {again['requests'] - again['errors']} of {again['requests']}")
        exact = exact and again["errors"] == 0
        # Independent of what Locust counted: when every student of the day signed in and
        # the day ran to its end, each one who submits (every 4th of the seed, who pass all
        # four offices from the start) did, so the departures stored are exactly that many.
        if signed_in["requests"] - signed_in["errors"] == args.day_students and not cut_off:
            first = args.first_day_student
            submitting = sum(1 for i in range(first, first + args.day_students) if (i % args.students) % 4 == 0)
            print(f"students of the day who submit (every 4th, passing from the start): {submitting}; departures stored: {stored}")
            exact = exact and stored == submitting
    shutil.rmtree(work, ignore_errors=True)
    if not exact:
        sys.exit("the departure day broke submit-once")


if __name__ == "__main__":
    main()
