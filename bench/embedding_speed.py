"""How fast the Embedding space page draws: embeddings, PCA and t-SNE views of 500 points.

A Prototypical Network on glyphs (Conv4 of 64 filters, 5-way 1-shot training, ``--steps``
steps: the speed does not depend on how well it is trained) and the page's largest picture:
50 held-out classes x (5 support + 5 query) = 500 examples. Timed, each the median of
``--repeats`` runs on one torch thread:

- embedding the 500 examples with the initial and the trained network (once per run and
  examples; the page caches it),
- a PCA view: projection, the three numbers and the figure (hover pictures included),
- a t-SNE view of the same 500 points (perplexity 30), once (it is seeded: a repeat is the
  same work),
- a cached view: the figure alone (what moving back to a view costs),
- MAML's features before and after its inner step on the same 500 examples,
- with ``--umap``, UMAP (umap-learn installed: importing it and its first call in a
  process compile with numba, which takes a minute on a small CPU).

    python bench/embedding_speed.py --steps 20 --repeats 3 [--umap] > bench_embedding.log

Prints one markdown row per measurement.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from metalearn_core import embedding_space as es  # noqa: E402
from metalearn_core.engine import RunConfig, Trainer  # noqa: E402
from metalearn_core.figures.embedding_space import image_art, space_figure  # noqa: E402


def timed(compute, repeats: int) -> tuple[tuple[float, float], object]:
    """Median (wall-clock, CPU) seconds of ``repeats`` runs, and the last value. On a busy
    machine wall-clock time counts the waits for a core; the process's CPU time, the work."""
    times, cpu, value = [], [], None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        value = compute()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return (statistics.median(times), statistics.median(cpu)), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--umap", action="store_true", help="time UMAP too (slow to compile)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows: list[tuple[str, tuple[float, float], str]] = []

    config = RunConfig(dataset="glyphs", algo="protonet", n_way=5, k_shot=1, q_query=5,
                       val_every=0)  # fmt: skip
    trainer = Trainer(config)
    trainer.run_tick(max_iterations=args.steps)
    episode = es.draw_examples(trainer.source("val"), 50, 5, 5, seed=0)
    learners = {"initial": trainer.initial_learner(), "trained": trainer.learner}
    seconds, spaces = timed(lambda: es.embed_learners(learners, episode), args.repeats)
    rows.append(("embed 500 examples, initial + trained network", seconds, "once per run"))
    images = torch.cat([episode.support_x, episode.query_x])
    seconds, art = timed(lambda: image_art(images), args.repeats)
    rows.append(("hover pictures of 500 examples", seconds, "once per examples"))
    space = spaces["trained"]

    def view(method: str, **options):
        projection = es.project(space, method, **options)
        metrics = es.space_metrics(space)
        return projection, metrics, space_figure(space, projection, images=art)

    seconds, (pca, _, _) = timed(lambda: view("pca"), args.repeats)
    rows.append(("PCA view: projection + numbers + figure", seconds, "target 0.5 s"))
    seconds, (tsne, _, _) = timed(lambda: view("tsne", perplexity=30.0, seed=0), 1)
    rows.append(("t-SNE view of 500 points (perplexity 30)", seconds, "target 10 s"))
    seconds, _ = timed(lambda: space_figure(space, tsne, images=art), args.repeats)
    rows.append(("cached view: the figure alone", seconds, "moving between views"))

    maml = Trainer(config.replace(algo="maml", hparams={"meta_batch": 4}))
    maml.run_tick(max_iterations=2)
    seconds, _ = timed(lambda: es.inner_steps_before_after(maml.learner, episode), 1)
    rows.append(("MAML features before + after 1 inner step, 500 examples", seconds, "once"))

    if args.umap:
        seconds, _ = timed(es.umap_module, 1)
        rows.append(("import umap-learn", seconds, "once per process"))
        seconds, _ = timed(lambda: view("umap", seed=0), 1)
        rows.append(("UMAP view, first in the process (numba compiles)", seconds, ""))
        seconds, _ = timed(lambda: view("umap", seed=0), 1)
        rows.append(("UMAP view, compiled", seconds, ""))

    print("| measurement | wall-clock s | CPU s | note |")
    print("|---|---|---|---|")
    for name, (wall, cpu), note in rows:
        print(f"| {name} | {wall:.3f} | {cpu:.3f} | {note} |")


if __name__ == "__main__":
    main()
