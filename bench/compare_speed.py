"""Compare's speed: what interleaving two learners on the live page costs, and what
``compare --workers 2`` gains over ``--workers 1``.

    python bench/compare_speed.py --seconds 15 [--json out.json]

Method
1. Command line: each learner of the page's default comparison (Prototypical Networks and
   MAML on glyphs, 5-way 1-shot, recipes) trained alone by ``Trainer.run_tick`` for
   ``--seconds``: episodes per second, one torch thread.
2. Page: ``streamlit run app.py`` and headless Chromium; open Compare (its default
   comparison, budget raised so that it does not end), Play, wait 3 s, then for
   ``--seconds`` read each learner's episode count from the progress line at both ends and
   count the loss chart's completed redraws (``Plotly.react`` calls, its div's
   ``data-draws``). Each learner gets half of the training time (over a few ticks: one whose
   step outlasts its share sits out the ticks it owes), so the aim is each at least 40% of its
   own command-line rate (interleaving costing at most 20% of the 50% it is given).
3. Workers: the same grid of ``compare`` cells (two learners x two seeds, an episode
   budget) with ``--workers 1`` and ``--workers 2``: wall-clock seconds and the ratio.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402

from metalearn_core.compare import ComparisonPlan, run_grid  # noqa: E402
from metalearn_core.engine import RunConfig, Trainer  # noqa: E402
from studio_ui.serving import CHROMIUM, CHROMIUM_FLAGS, StreamlitServer  # noqa: E402

PAGE_ALGOS = ("protonet", "maml")  # the Compare page's first comparison
PAGE_BASE = RunConfig(dataset="glyphs", algo="maml", n_way=5, k_shot=1, q_query=5, seed=0)
TICK_SECONDS = 0.15  # studio_ui.compare_session.TICK_SECONDS
LOSS_CHART = '[data-live-chart="compare_loss"]'
CHART_DRAWS_JS = f"() => Number(document.querySelector('{LOSS_CHART}').dataset.draws || 0)"


def engine_rates(seconds: float) -> dict[str, float]:
    """Episodes per second of each learner trained alone, as the command line does."""
    plan = ComparisonPlan(PAGE_ALGOS, PAGE_BASE, episodes=20_000, test_episodes=10)
    rates = {}
    for algo in PAGE_ALGOS:
        trainer = Trainer(plan.learner_config(algo))
        trainer.run_tick(max_iterations=1)  # one-off costs, as on the page
        start_time, start_episodes = time.perf_counter(), trainer.episodes_seen
        while time.perf_counter() - start_time < seconds:
            trainer.run_tick(max_seconds=TICK_SECONDS, split_validation=True)
        rates[algo] = (trainer.episodes_seen - start_episodes) / (time.perf_counter() - start_time)
    return rates


def page_episodes(page) -> list[int]:
    """Each learner's episode count from the progress line ("123 / 20,000 episodes")."""
    text = page.locator(".st-key-compare_progress").inner_text()
    return [int(n.replace(",", "")) for n in re.findall(r"([\d,]+) / [\d,]+ episodes", text)]


def page_rates(url: str, browser, seconds: float) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(240_000)
    try:
        page.goto(f"{url}/compare")
        page.get_by_role("heading", name="Compare").wait_for()
        field = page.locator('[data-testid="stSidebar"]').get_by_label(
            "Training episodes per learner", exact=True
        )
        field.fill("20000")
        field.press("Enter")
        page.locator(LOSS_CHART).wait_for()
        page.wait_for_timeout(2000)
        page.get_by_role("button", name="Play").click()
        page.get_by_role("button", name="Pause").wait_for()
        page.wait_for_timeout(3000)
        start_time, start = time.perf_counter(), page_episodes(page)
        start_draws = page.evaluate(CHART_DRAWS_JS)
        page.wait_for_timeout(seconds * 1000)
        end, draws = page_episodes(page), page.evaluate(CHART_DRAWS_JS) - start_draws
        elapsed = time.perf_counter() - start_time
        page.get_by_role("button", name="Pause").click()
        rates = {algo: (b - a) / elapsed for algo, a, b in zip(PAGE_ALGOS, start, end, strict=True)}
        return {**rates, "chart_redraws_per_s": draws / elapsed}
    finally:
        context.close()


def workers_seconds(workers: int, episodes: int) -> float:
    base = RunConfig(dataset="glyphs", algo="maml", n_way=5, k_shot=1, q_query=5, threads=1)
    plan = ComparisonPlan(
        ("protonet", "matchingnet"), base, episodes=episodes, seeds=(0, 1), test_episodes=50,
        test_shots=(1,), test_ways=(), extra_episodes=10, validate_every=0,
    )  # fmt: skip
    start = time.perf_counter()
    run_grid(plan, workers=workers)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--grid-episodes", type=int, default=150)
    parser.add_argument("--skip-page", action="store_true")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    report: dict[str, object] = {"engine_episodes_per_s": engine_rates(args.seconds)}
    print(json.dumps(report), file=sys.stderr, flush=True)  # each part as it is measured
    if not args.skip_page:
        from playwright.sync_api import sync_playwright

        server = StreamlitServer(env={"METALEARN_TORCH_THREADS": "1"})
        server.start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
                report["page"] = page_rates(server.url, browser, args.seconds)
                browser.close()
        finally:
            server.stop()
        engine = report["engine_episodes_per_s"]
        report["page_share_of_engine"] = {
            algo: report["page"][algo] / engine[algo] for algo in PAGE_ALGOS
        }
        print(json.dumps(report), file=sys.stderr, flush=True)
    one = workers_seconds(1, args.grid_episodes)
    two = workers_seconds(2, args.grid_episodes)
    report["workers"] = {"one_s": one, "two_s": two, "speedup": one / two}
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
