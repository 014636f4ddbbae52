"""Departure day, scripted for Locust (scripts/bench runs it headless).

Students arrive over a few minutes (Locust's spawn rate is the arrival rate): each signs
in (told that too many are signing in, it tries again after the seconds the server
names, to half as long again), looks at the clearance page a few times, submits if all
four offices pass (every 4th student of the benchmark's seed), tries again (which must be
refused: submit once), and half of those print the slip. Meanwhile the library's and the
archives' systems push updates through the sync API, each once a second. Each simulated
student is one real student of the seed and goes through the day once: a student who is
done closes the connection and stays idle (Locust would otherwise replace a stopped user
by a new one, and the arrivals would become a loop).
"""

import itertools
import json
import os
import random
import time
from datetime import datetime, timezone

import gevent
from locust import FastHttpUser, constant, events, task

STUDENTS = int(os.environ.get("BENCH_STUDENTS", "20000"))
PASSWORD = os.environ.get("BENCH_PASSWORD", "Bench-password-2026")
VIEWS = int(os.environ.get("BENCH_VIEWS", "3"))
PAGE = {"Accept": "text/html,application/xhtml+xml"}
# The refusal of a second submit (app/src/clearance/mod.rs).
ALREADY_SUBMITTED = "离校流程只能提交一次"
_next_student = itertools.count(int(os.environ.get("BENCH_FIRST_STUDENT", "0")))
# When this many students are done, the day is over and Locust stops (run.py times it).
DAY_STUDENTS = int(os.environ.get("BENCH_DAY_STUDENTS", "0"))
_finished = 0
# Every "come back in N seconds" the server gave (N), and how often each student heard
# one: in the day's report, for run.py's summary.
_told = []
_told_per_student = {}


@events.quitting.add_listener
def _report_day(environment, **_kwargs):
    """Writes BENCH_DAY_REPORT when the day ends: each request kind's final statistics
    and the retries. Not Locust's --csv: its file is rewritten once a second and closed
    without a last write, so the last second's requests were missing from it (a submit
    among them made the exactly-once check fail on a correct server)."""
    report = os.environ.get("BENCH_DAY_REPORT")
    if not report:
        return

    def figures(entry):
        return {
            "requests": entry.num_requests,
            "errors": entry.num_failures,
            "rate": entry.total_rps,
            "p50": entry.get_response_time_percentile(0.5) or 0,
            "p90": entry.get_response_time_percentile(0.9) or 0,
            "p99": entry.get_response_time_percentile(0.99) or 0,
        }

    stats = environment.stats
    rows = {entry.name: figures(entry) for entry in stats.entries.values() if entry.num_requests}
    with open(report, "w") as file:
        json.dump(
            {"stats": rows, "total": figures(stats.total), "told": _told, "per_student": list(_told_per_student.values())},
            file,
        )


def number(index):
    return f"2026{index:06d}"


class Student(FastHttpUser):
    """One graduating student on departure day, from sign-in to (maybe) the slip."""

    def wait_time(self):
        # Reading the page between clicks; once done, idle for the rest of the run.
        return 3600 if self.done else random.uniform(0.5, 2.0)

    def on_start(self):
        self.index = next(_next_student) % STUDENTS
        self.views = 0
        self.done = False
        self.signed_in = False
        self.retry_at = 0
        self.sign_in()

    def sign_in(self):
        with self.client.post(
            "/api/login",
            data={"student_number": number(self.index), "password": PASSWORD},
            headers=PAGE,
            allow_redirects=False,
            name="sign in",
            catch_response=True,
        ) as response:
            location = response.headers.get("Location")
            retry_after = response.headers.get("Retry-After")
            # A refused sign-in is a redirect too (back to the form, with its error):
            # only the way into the service hall counts as signed in.
            if response.status_code in (302, 303) and location == "/hall":
                self.signed_in = True
            elif response.status_code in (302, 303) and retry_after:
                # "登录人数较多，请约 N 秒后再试": too many signing in at this moment. A
                # person tries again after about that long (not all at the same instant).
                response.request_meta["name"] = "sign in: told to retry"
                response.success()
                seconds = int(retry_after)
                _told.append(seconds)
                _told_per_student[self.index] = _told_per_student.get(self.index, 0) + 1
                self.retry_at = time.monotonic() + seconds * random.uniform(1.0, 1.5)
            else:
                response.failure(f"sign-in answered {response.status_code} to {location}")
                self.finish()

    @task
    def clearance(self):
        if self.done:
            return
        if not self.signed_in:
            # Locust runs the first task straight after on_start: wait out the pause here.
            gevent.sleep(max(0, self.retry_at - time.monotonic()))
            self.sign_in()
            return
        with self.client.get("/clearance", headers=PAGE, name="clearance page", catch_response=True) as response:
            if response.status_code != 200 or "离校审核事项" not in response.text:
                response.failure(f"clearance page answered {response.status_code}")
        self.views += 1
        if self.views < VIEWS:
            return
        if self.index % 4 == 0:
            with self.client.post(
                "/api/submit_departure",
                headers=PAGE,
                allow_redirects=False,
                name="submit",
                catch_response=True,
            ) as response:
                # Submitted: back to the clearance page (a refusal goes back with an error).
                if response.status_code not in (302, 303) or response.headers.get("Location") != "/clearance":
                    response.failure(f"submit answered {response.status_code} to {response.headers.get('Location')}")
            # The impatient second tap, as the page's script sends it: 409, never a second
            # departure (run.py counts what is stored).
            with self.client.post(
                "/api/submit_departure",
                headers={"Accept": "application/json"},
                name="submit again (refused)",
                catch_response=True,
            ) as response:
                # Refused because it was submitted already, not for another reason.
                if response.status_code == 409 and ALREADY_SUBMITTED in response.text:
                    response.success()
                else:
                    response.failure(f"a second submit answered {response.status_code}")
            if random.random() < 0.5:
                with self.client.get(
                    "/completed/slip", headers=PAGE, name="slip", allow_redirects=False, catch_response=True
                ) as response:
                    if response.status_code != 200 or "研究生离校流程单" not in response.text:
                        response.failure(f"the slip answered {response.status_code}")
        self.finish()

    def finish(self):
        """Done for the day: the phone goes away, and with it the connection (a server
        holding one idle connection per graduate would measure Locust, not the day)."""
        global _finished
        self.done = True
        self.client.client.close()
        _finished += 1
        if _finished == DAY_STUDENTS:
            # Not from this user's own greenlet, which quitting stops.
            gevent.spawn(self.environment.runner.quit)


class OfficeSystem(FastHttpUser):
    """An office's own system pushing 100 students' records every second."""

    abstract = True
    fixed_count = 1
    wait_time = constant(1)
    office = ""

    def facts(self):
        """What the office reports of a student (besides number and time)."""
        raise NotImplementedError

    @task
    def push(self):
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        records = [
            {"student_number": number(random.randrange(STUDENTS)), "as_of": now, **self.facts()}
            for _ in range(100)
        ]
        push(self.client, self.office, records)


class LibrarySystem(OfficeSystem):
    """The library's system: books returned, no fines, card cancelled."""

    office = "library"

    def facts(self):
        return {"books_out": 0, "fines": "0", "violations": 0, "card_cancelled": True, "thesis_status": "approved"}


class ArchivesSystem(OfficeSystem):
    """The archives' system: theses reviewed."""

    office = "archives"

    def facts(self):
        return {"thesis_status": "reviewed"}


def push(client, office, records):
    """One push; every record must be applied (created, updated or unchanged)."""
    with client.post(
        f"/sync/v1/{office}/records",
        data=json.dumps({"records": records}),
        headers={"Authorization": f"Bearer lxs_bench_{office}", "Content-Type": "application/json"},
        name=f"sync push, {office} (100 records)",
        catch_response=True,
    ) as response:
        if response.status_code != 200:
            response.failure(f"push answered {response.status_code}")
            return
        rejected = [r for r in response.json().get("results", []) if r.get("status") == "rejected"]
        if rejected:
            response.failure(f"{len(rejected)} records rejected: {rejected[0]}")
