"""A class on one server: simulated students training on the Train page at once.

    python bench/classroom.py --students 10,20,30 [--seconds 60] [--presses 10]
        [--rounds 1] [--browsers 2] [--json out.json]

Each student is a ``StudentClient`` (Streamlit's own websocket protocol, no browser, so
the server is what is measured): it opens the Train page, presses "Quick demo" and Play.

1. Baseline: a fresh ``streamlit run app.py`` on a loopback port; one student opens the
   Train page, plays for five seconds, pauses, steps and leaves (imports, data caches and
   the code paths of a Play loaded once); the server's resident memory once that
   session's state has been emptied.
2. Load: ``--students`` students arrive over 10 s and press Play (one whose Play does not
   show within 90 s is counted as failed to join), then play for ``--seconds``; each
   one's episode counter is
   read at both ends of the window: episodes/s per student (every session must advance;
   the slowest should get at least half the median). Server memory at the end.
3. Presses, during the window: one more student (not training) presses Step, waits for
   its counter to change, and Play then Pause, waiting for the button to read "Play"
   again: seconds from each press to its visible result (``--presses`` of each).
4. Tabs close: every student disconnects; the server's CPU use over the next 10 s (its
   training must stop) and its memory every 5 s for ``--settle`` seconds, against the
   baseline (a closed tab's state is emptied after ``METALEARN_ORPHAN_SECONDS``, 30 s).

5. What a student sees, during the window: ``--browsers`` real Chromium pages (Debian's
   ``/usr/bin/chromium``, headless, through Playwright) join the class on the Train page
   (Quick demo, Play) beside the simulated students. Each records whether its chart kept
   redrawing and its episode counter grew, the places in line it was shown while waiting
   for a trainer (``max_training_sessions``, README), then Pause and a Step press: the
   seconds until the new count shows.

``--students 10,20,30`` runs one class of each size on the same server, one after the
other, after the baseline. ``--rounds 2`` runs each size twice: memory that a class
leaves allocated but the next one reuses is not a leak. With a trainer line, a student
trains for a turn and then waits for the rest of the class: ``--seconds`` should cover a
few rotations (30 students on 2 trainers with 1.5 s turns: one rotation is 22.5 s).

The machine's load average is recorded with the figures: on a shared machine the
students' episodes per second depend on what else runs.

Every wait is bounded; everything runs on 127.0.0.1. Results print as JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from studio_ui.serving import StreamlitServer  # noqa: E402
from studio_ui.student_client import StudentClient, wait_until  # noqa: E402

PLAY = "train_play_pause"
STEP = "train_step"
LOAD_TIMEOUT = 120.0  # seconds for one student's Train page to be drawn under load
PRESS_TIMEOUT = 30.0  # seconds for a press to show
JOIN_TIMEOUT = 90.0  # seconds for a joining student's Play to show (the class arriving)
ARRIVAL_SECONDS = 10.0  # the students arrive over this long
WARM_UP_SECONDS = 5.0  # the baseline student's Play


def open_student(address: str) -> StudentClient:
    """A student on the Train page with the quick demo chosen (paused)."""
    student = StudentClient(address, page="train")
    drawn = student.wait_for(
        lambda s: s.errors or (STEP in s.buttons and s.count("Episodes") is not None),
        LOAD_TIMEOUT,
    )
    if not drawn or student.errors:
        raise TimeoutError(f"the Train page was not drawn in {LOAD_TIMEOUT} s: {student.errors}")
    runs = student.runs_finished
    student.press("label:Quick demo")
    student.wait_for(lambda s: s.runs_finished > runs, PRESS_TIMEOUT)
    return student


def play(student: StudentClient, timeout: float = PRESS_TIMEOUT) -> None:
    student.press(PLAY)
    if not student.wait_for(lambda s: s.label(PLAY) == "Pause", timeout):
        raise TimeoutError(f"Play did not show within {timeout} s")


def settle(student: StudentClient, runs: int) -> None:
    """Wait for the run a press started to finish, as a student waits to see a page."""
    student.wait_for(lambda s: s.runs_finished > runs, PRESS_TIMEOUT)


def timed_step(student: StudentClient) -> float:
    """Seconds from pressing Step to the counter showing the new episodes."""
    before, runs = student.count("Episodes"), student.runs_finished
    start = time.perf_counter()
    student.press(STEP)
    if not student.wait_for(lambda s: s.count("Episodes") != before, PRESS_TIMEOUT):
        return float("inf")
    seconds = time.perf_counter() - start
    settle(student, runs)
    return seconds


def timed_pause(student: StudentClient) -> float:
    """Play for a second, then seconds from pressing Pause to the button reading Play."""
    play(student)
    time.sleep(1.0)
    runs = student.runs_finished
    start = time.perf_counter()
    student.press(PLAY)
    if not student.wait_for(lambda s: s.label(PLAY) == "Play", PRESS_TIMEOUT):
        return float("inf")
    seconds = time.perf_counter() - start
    settle(student, runs)
    return seconds


def warm_up(address: str, seconds: float = WARM_UP_SECONDS) -> None:
    """One student plays a few seconds, pauses, steps and leaves: what the process loads
    once (modules, kernels, the data cache) is in the baseline, not counted as the class's."""
    student = open_student(address)
    try:
        play(student)
        time.sleep(seconds)
        runs = student.runs_finished
        student.press(PLAY)
        student.wait_for(lambda s: s.label(PLAY) == "Play", PRESS_TIMEOUT)
        settle(student, runs)
        timed_step(student)
    finally:
        student.close()


def load_average() -> float:
    """The machine's 1-minute load average: other work shares these cores."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(
    class_sizes: list[int],
    seconds: float,
    presses: int,
    settle: float,
    rounds: int = 1,
    browsers: int = 2,
) -> dict:
    """A fresh server, its baseline, then a class of each size (``rounds`` times each),
    one after another."""
    result: dict = {"students": class_sizes, "seconds": seconds, "browsers": browsers}
    with StreamlitServer() as server:
        address = f"127.0.0.1:{server.port}"
        result["load_average_before"] = load_average()
        warm_up(address)  # imports, data caches, the code paths of Play, Pause and Step
        # the baseline: once that first session's state has been emptied (30 s)
        wait_until(lambda: "emptied the state" in server.log_text(), 45.0, interval=1.0)
        result["baseline_mb"] = round(server.rss_mb(), 1)
        result["rounds"] = [
            one_class(server, students, seconds, presses, settle, result["baseline_mb"], browsers)
            for students in class_sizes
            for _ in range(rounds)
        ]
        result["sessions_emptied_logged"] = server.log_text().count("emptied the state") - 1
    return result


def one_class(
    server: StreamlitServer,
    students: int,
    seconds: float,
    presses: int,
    settle: float,
    baseline_mb: float,
    browsers: int = 2,
) -> dict:
    """Students join and play, a prober presses, real browsers look, then every tab closes."""
    address = f"127.0.0.1:{server.port}"
    result: dict = {"students": students}
    started = time.perf_counter()
    opened: list[StudentClient] = []
    failed: list[str] = []
    lock = threading.Lock()

    def join() -> None:
        try:
            student = open_student(address)
            play(student, JOIN_TIMEOUT)
        except (TimeoutError, OSError) as error:
            with lock:
                failed.append(repr(error)[:200])
            return
        with lock:
            opened.append(student)

    joiners = []
    for _ in range(students):  # a class arrives over a few seconds, not at one instant
        joiners.append(threading.Thread(target=join))
        joiners[-1].start()
        time.sleep(ARRIVAL_SECONDS / students)
    for thread in joiners:
        thread.join(LOAD_TIMEOUT + 2 * JOIN_TIMEOUT)
    result["students_started"] = len(opened)
    result["join_failures"] = failed[:3]
    if not opened:
        raise RuntimeError(f"no student started: {failed[:3]}")
    result["all_playing_after_s"] = round(time.perf_counter() - started, 1)
    prober = open_student(address)

    seen: list[dict] = []
    looking = threading.Thread(
        target=lambda: seen.extend(browser_students(address, browsers, seconds)), daemon=True
    )
    if browsers:
        looking.start()
    time.sleep(3.0)  # every loop past its first redraws
    counts_before = [s.count("Episodes") or 0 for s in opened]
    window_start = time.perf_counter()
    step_seconds, pause_seconds = [], []
    deadline = window_start + seconds
    while time.perf_counter() < deadline and len(pause_seconds) < presses:
        step_seconds.append(timed_step(prober))
        pause_seconds.append(timed_pause(prober))
    time.sleep(max(0.0, deadline - time.perf_counter()))
    window = time.perf_counter() - window_start
    counts_after = [s.count("Episodes") or 0 for s in opened]
    result["playing_mb"] = round(server.rss_mb(), 1)
    result["load_average_during"] = load_average()

    students = len(opened)
    rates = [(b - a) / window for a, b in zip(counts_before, counts_after, strict=True)]
    median = statistics.median(rates)
    result.update(
        episodes_per_s_median=round(median, 2),
        episodes_per_s_min=round(min(rates), 2),
        episodes_per_s_max=round(max(rates), 2),
        episodes_per_s_total=round(sum(rates), 1),
        every_session_advanced=all(rate > 0 for rate in rates),
        slowest_at_least_half_median=min(rates) >= 0.5 * median,
        step_presses=len(step_seconds),
        step_p50_s=round(percentile(step_seconds, 0.5), 3),
        step_p95_s=round(percentile(step_seconds, 0.95), 3),
        pause_p50_s=round(percentile(pause_seconds, 0.5), 3),
        pause_p95_s=round(percentile(pause_seconds, 0.95), 3),
        press_p95_s=round(percentile(step_seconds + pause_seconds, 0.95), 3),
        mb_per_session=round((result["playing_mb"] - baseline_mb) / students, 1),
    )
    errors = [e for s in opened for e in s.errors]
    result["errors_shown"] = errors[:5]
    result["queue_notices_seen_by_simulated"] = sum(
        any("in line" in n for n in s.notices) for s in opened
    )
    if browsers:
        looking.join(BROWSER_SETUP_TIMEOUT + seconds + 2 * PRESS_TIMEOUT)
        result["browser_students"] = seen or [{"error": "the browsers did not report"}]

    for student in [*opened, prober]:
        student.close()
    closed_at = time.perf_counter()
    cpu_start = server.cpu_seconds()
    time.sleep(10.0)
    result["cpu_percent_10s_after_close"] = round(10 * (server.cpu_seconds() - cpu_start), 1)
    memory = []
    while (elapsed := time.perf_counter() - closed_at) < settle:
        memory.append((round(elapsed), round(server.rss_mb(), 1)))
        time.sleep(5.0)
    memory.append((round(time.perf_counter() - closed_at), round(server.rss_mb(), 1)))
    result["mb_after_close"] = memory
    result["final_mb"] = memory[-1][1]
    grown = result["playing_mb"] - baseline_mb
    back = [t for t, mb in memory if mb - baseline_mb <= max(0.1 * grown, 20.0)]
    result["back_to_baseline_after_s"] = back[0] if back else None
    return result


# ----------------------------------------------------------------------------- real browsers
BROWSER_SETUP_TIMEOUT = 180.0  # seconds for Chromium to start and draw the Train page
COUNTER = '.st-key-train_counter [data-testid="stMetricValue"]'
CHART_DRAWS_JS = """() => {
    const div = document.querySelector('[data-live-chart="train_curves"]');
    return div ? Number(div.dataset.draws || 0) : -1;
}"""
QUEUE_JS = """() => Array.from(document.querySelectorAll('[data-testid="stAlert"]'))
    .map(box => box.innerText).filter(text => text.includes('in line'))"""
PLACE = re.compile(r"number (\d+) in line")


def browser_students(address: str, count: int, seconds: float) -> list[dict]:
    """``count`` Chromium pages join the class; what each student saw (see the docstring)."""
    from playwright.sync_api import sync_playwright

    from studio_ui.serving import CHROMIUM, CHROMIUM_FLAGS

    reports: list[dict] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            pages = []
            for _ in range(count):
                page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                page.set_default_timeout(BROWSER_SETUP_TIMEOUT * 1000)
                pages.append(page)
            for page in pages:  # open every page first, then press Play on each
                page.goto(f"http://{address}/train")
                page.get_by_role("button", name="Quick demo").click()
                page.locator('[data-live-chart="train_curves"] .main-svg').first.wait_for()
            for page in pages:
                page.get_by_role("button", name="Play").click()
                page.get_by_role("button", name="Pause").wait_for()
            starts = [(page.evaluate(CHART_DRAWS_JS), _counter(page)) for page in pages]
            places: list[set[int]] = [set() for _ in pages]
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                for page, seen in zip(pages, places, strict=True):
                    for text in page.evaluate(QUEUE_JS):
                        if match := PLACE.search(text):
                            seen.add(int(match.group(1)))
                time.sleep(0.5)
            for page, (draws, episodes), seen in zip(pages, starts, places, strict=True):
                reports.append(_browser_report(page, draws, episodes, seen))
        except Exception as error:  # report what failed; the simulated class goes on
            reports.append({"error": f"{type(error).__name__}: {error}"[:300]})
        finally:
            browser.close()
    return reports


def _counter(page) -> int | None:
    try:
        return int(page.locator(COUNTER).first.inner_text(timeout=5000).replace(",", ""))
    except Exception:  # not drawn at that instant, or not a number yet
        return None


def _browser_report(page, draws_before: int, episodes_before: int | None, places) -> dict:
    """After the window: did the chart and counter grow; then Pause and a timed Step."""
    draws, episodes = page.evaluate(CHART_DRAWS_JS), _counter(page)
    report = {
        "chart_draws_during_window": draws - draws_before,
        "chart_grew": draws > draws_before,
        "episodes_during_window": None
        if episodes is None or episodes_before is None
        else episodes - episodes_before,
        "queue_places_seen": sorted(places),
    }
    start = time.perf_counter()
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for(timeout=PRESS_TIMEOUT * 1000)
    report["pause_shown_s"] = round(time.perf_counter() - start, 3)
    page.wait_for_timeout(500)  # the tick in flight when Pause was pressed
    before = _counter(page)
    start = time.perf_counter()
    page.get_by_role("button", name="Step").click()
    deadline = time.monotonic() + PRESS_TIMEOUT
    while time.monotonic() < deadline and _counter(page) == before:
        time.sleep(0.05)
    shown = _counter(page) != before
    report["step_shown_s"] = round(time.perf_counter() - start, 3) if shown else None
    report["errors_shown"] = page.locator('[data-testid="stException"]').all_inner_texts()[:3]
    return report


def parse_sizes(text: str) -> list[int]:
    """``10,20,30`` -> [10, 20, 30], each from 1 to 60."""
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of numbers") from None
    if not sizes or len(sizes) > 5 or not all(1 <= size <= 60 for size in sizes):
        raise argparse.ArgumentTypeError("give one to five class sizes, each from 1 to 60")
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--students",
        type=parse_sizes,
        default=[10],
        metavar="N[,N...]",
        help="class sizes, one class of each after the other (10,20,30)",
    )
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--presses", type=int, default=10)
    parser.add_argument("--settle", type=float, default=50.0)
    parser.add_argument("--rounds", type=int, default=1, help="classes, one after another")
    parser.add_argument(
        "--browsers", type=int, default=2, help="real Chromium pages among the students (0: none)"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not 1 <= args.rounds <= 5:
        parser.error("--rounds must be between 1 and 5")
    if not 0 <= args.browsers <= 4:
        parser.error("--browsers must be between 0 and 4")
    result = run(args.students, args.seconds, args.presses, args.settle, args.rounds, args.browsers)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
