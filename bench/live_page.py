"""Live Train page speed: chart redraws per second in a real browser, and training
throughput in the page against the engine alone (what the command line runs).

    python bench/live_page.py --seconds 20 --repeats 3 [--json out.json]

Method
1. Engine only: ``Trainer(config).run_tick(max_seconds=...)`` in a loop for ``--seconds``
   (validation included, as in the page, and ticks as long as the page's at that speed),
   torch threads as in the app; episodes per second.
2. Page: ``streamlit run app.py`` with headless Chromium (Debian's, the project's flags);
   open Train, set up the same config, press Play, wait 3 s, then for ``--seconds`` count
   (a) changes of the episode counter's text, (b) the curves chart's completed redraws
   (``Plotly.react`` calls that finished, counted by ``studio_ui.live_chart`` in the chart
   div's ``data-draws``), (c) mounts of a new chart div (a remount would flicker), and
   read the episode counter at both ends.
3. What a viewer sees: after the timed window, still playing, ``--frames`` screenshots of
   the chart, ~0.4 s apart; a frame with (almost) no dark pixels is a blank chart.
Repeats alternate engine and page runs and report medians.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402

from metalearn_core.engine import RunConfig, Trainer  # noqa: E402
from studio_ui.serving import CHROMIUM, CHROMIUM_FLAGS, StreamlitServer  # noqa: E402
from studio_ui.train_session import SPEEDS  # noqa: E402

# The page's "Quick demo" for Prototypical Networks on glyphs (studio_ui.run_presets).
CONFIG = RunConfig(
    dataset="glyphs", algo="protonet", n_way=5, k_shot=1, q_query=5, width=32, seed=0,
    val_every=50, val_episodes=20, device="cpu", hparams={"meta_batch": 1},
)  # fmt: skip
COUNTER = '.st-key-train_counter [data-testid="stMetricValue"]'
OBSERVER_JS = """() => {
    window.__bench = {counterChanges: 0, lastText: null, chartsMounted: 0};
    const counterText = () => {
        const el = document.querySelector('COUNTER_SELECTOR');
        return el ? el.textContent : null;
    };
    window.__bench.lastText = counterText();
    new MutationObserver((mutations) => {
        const text = counterText();
        if (text !== null && text !== window.__bench.lastText) {
            window.__bench.counterChanges += 1;
            window.__bench.lastText = text;
        }
        for (const m of mutations) for (const node of m.addedNodes) {
            if (node.dataset && node.dataset.liveChart !== undefined) window.__bench.chartsMounted += 1;
            else if (node.querySelector && node.querySelector('[data-live-chart]'))
                window.__bench.chartsMounted += 1;
        }
    }).observe(document.body, {subtree: true, childList: true, characterData: true});
}""".replace("COUNTER_SELECTOR", COUNTER)
CHART = '[data-live-chart="train_curves"]'
CHART_DRAWS_JS = f"() => Number(document.querySelector('{CHART}').dataset.draws || 0)"


def blank_frames(page, frames: int) -> int:
    """Screenshots of the chart while playing; those with almost no dark pixels are blank."""
    import numpy as np
    from PIL import Image

    box = page.locator(CHART).first.bounding_box()
    blank = 0
    for _ in range(frames):
        shot = Image.open(io.BytesIO(page.screenshot(clip=box))).convert("L")
        blank += int((np.asarray(shot) < 200).mean() < 0.005)
        page.wait_for_timeout(400)
    return blank


def engine_rate(seconds: float, tick: float, threads: int) -> float:
    """Episodes per second of the engine alone over ``seconds`` of wall-clock time."""
    torch.set_num_threads(threads)
    trainer = Trainer(CONFIG)
    trainer.run_tick(max_iterations=1)  # first step pays one-off costs, as in the page
    start_time, start_episodes = time.perf_counter(), trainer.episodes_seen
    while time.perf_counter() - start_time < seconds:
        trainer.run_tick(max_seconds=tick, split_validation=True)  # as the page ticks
    return (trainer.episodes_seen - start_episodes) / (time.perf_counter() - start_time)


def read_episodes(page) -> int:
    return int(page.locator(COUNTER).first.inner_text().replace(",", ""))


def page_rates(url: str, browser, seconds: float, speed: str, frames: int) -> dict[str, float]:
    """Open Train (first visit: ProtoNet on glyphs, quick demo), Play, measure."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{url}/train")
        page.get_by_text("Prototypical Networks on glyphs, 5-way 1-shot").wait_for()
        if speed != "Normal":
            page.get_by_text(speed, exact=True).click()  # a segmented control, not a button role
            page.wait_for_timeout(1000)
        page.get_by_role("button", name="Play").click()
        page.get_by_role("button", name="Pause").wait_for()
        page.wait_for_timeout(3000)  # past the first step and first redraws
        page.evaluate(OBSERVER_JS)
        start_time, start_episodes = time.perf_counter(), read_episodes(page)
        start_draws = page.evaluate(CHART_DRAWS_JS)
        page.wait_for_timeout(seconds * 1000)
        counts = page.evaluate("() => window.__bench")
        draws = page.evaluate(CHART_DRAWS_JS) - start_draws
        elapsed = time.perf_counter() - start_time
        episodes = read_episodes(page) - start_episodes
        blank = blank_frames(page, frames)
        page.screenshot(path=str(REPO_ROOT / "test-artifacts" / "bench-live-page.png"))
        page.get_by_role("button", name="Pause").click()
        return {
            "counter_redraws_per_s": counts["counterChanges"] / elapsed,
            "chart_redraws_per_s": draws / elapsed,
            "chart_divs_mounted": counts["chartsMounted"],
            "blank_chart_frames": blank,
            "frames_shot": frames,
            "episodes_per_s": episodes / elapsed,
        }
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (app and engine)")
    parser.add_argument("--speed", default="Normal", choices=("Slow", "Normal", "Fast"))
    parser.add_argument("--frames", type=int, default=16, help="screenshots for the blank check")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    (REPO_ROOT / "test-artifacts").mkdir(exist_ok=True)
    engine, pages = [], []
    # the page's tick at this speed (Slow has none: one step per redraw; the engine ticks 0.1 s)
    engine_tick = SPEEDS[args.speed].tick_seconds or 0.1
    server = StreamlitServer(env={"METALEARN_TORCH_THREADS": str(args.threads)})
    with server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        for repeat in range(args.repeats):
            engine.append(engine_rate(args.seconds, engine_tick, args.threads))
            pages.append(page_rates(server.url, browser, args.seconds, args.speed, args.frames))
            print(f"repeat {repeat + 1}: engine {engine[-1]:.1f} ep/s, page {pages[-1]}")
        browser.close()
    result = {
        "config": CONFIG.to_dict(),
        "threads": args.threads,
        "speed": args.speed,
        "seconds": args.seconds,
        "engine_episodes_per_s": statistics.median(engine),
        "page_episodes_per_s": statistics.median(p["episodes_per_s"] for p in pages),
        "counter_redraws_per_s": statistics.median(p["counter_redraws_per_s"] for p in pages),
        "chart_redraws_per_s": statistics.median(p["chart_redraws_per_s"] for p in pages),
        "chart_divs_mounted": sum(p["chart_divs_mounted"] for p in pages),
        "blank_chart_frames": sum(p["blank_chart_frames"] for p in pages),
        "frames_shot": sum(p["frames_shot"] for p in pages),
        "runs": {"engine": engine, "page": pages},
    }
    result["page_to_engine"] = result["page_episodes_per_s"] / result["engine_episodes_per_s"]
    print(json.dumps({k: v for k, v in result.items() if k not in ("runs", "config")}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
