"""What a Learn page costs on the server: the one-off work a first visit pays (cached after
that for every session) and a rerun after a slider moves, one torch thread.

    python bench/learn_pages.py

Prints a markdown table. The first-visit figures are what ``studio_ui.learn`` caches with
``st.cache_resource`` / ``st.cache_data``; the rerun figures go through AppTest with those
caches warm.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from metalearn_core.lessons import gan_equilibrium, sinusoid_maml  # noqa: E402
from studio_ui import learn  # noqa: E402


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    torch.set_num_threads(1)
    rows = []
    for method, settings in learn.METHOD_SETTINGS.items():
        seconds = timed(
            lambda method=method, settings=settings: sinusoid_maml.meta_train(
                method, learn.LESSON_META_STEPS, learn.LESSON_SEED, **settings
            )
        )
        rows.append((f"meta-train {method}, {learn.LESSON_META_STEPS} steps", seconds))
    rows.append((
        "MAML six-step walkthrough (30 repeats)",
        timed(lambda: sinusoid_maml.maml_walkthrough(sinusoid_maml.init_parameters(0), seed=3)),
    ))  # fmt: skip
    rows.append((
        f"GAN equilibrium trace, {learn.GAN_DEFAULT_STEPS} steps",
        timed(lambda: gan_equilibrium.equilibrium_trace(
            gan_equilibrium.lesson_config(True), learn.GAN_DEFAULT_STEPS, 50)),
    ))  # fmt: skip

    from streamlit.testing.v1 import AppTest

    for page, key, value in (
        ("pages/learn_maml.py", "learn_maml_inner_lr", 0.03),
        ("pages/learn_matching.py", "learn_matching_angle", 90),
        ("pages/learn_prototypes.py", "learn_prototypes_x0", 0.5),
    ):
        at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=600)
        at.run()
        at.switch_page(page).run()  # warms the caches
        rows.append((f"{page} rerun after a slider move (AppTest)",
                     timed(lambda at=at, key=key, value=value: at.slider(key=key)
                           .set_value(value).run())))  # fmt: skip
    print("| work | seconds |\n|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
