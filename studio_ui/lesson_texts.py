"""The guided lessons' texts and setups (what ``studio_ui.lessons`` opens and shows).

Each lesson's text is an English constant marked with ``N_`` and translated where shown
(Simplified Chinese in the catalog). The answers were written from short CPU runs of the
very setups below, through the core (``python -m metalearn_core train`` / ``compare`` /
``gan``; ``python bench/lesson_runs.py`` repeats them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from studio_ui.i18n import LANGUAGE_KEY, N_
from studio_ui.links import HIDE_PARAM, LESSON_PARAM

# The pages a lesson can open on: page name -> (script, the catalogue's title of it)
PAGES = {
    "train": ("pages/train.py", N_("Train")),
    "compare": ("pages/compare.py", N_("Compare")),
    "gan": ("pages/gan.py", N_("GAN Lab")),
}


@dataclass(frozen=True)
class Lesson:
    """One guided lesson. ``setup`` maps the target page's setting names to values (the
    names a link's query parameters use: ``RunConfig`` fields and hyperparameter names on
    Train, the form's names on Compare, ``ToyGANConfig`` fields on GAN Lab); ``hide`` names
    the controls a teacher's link hides."""

    id: str
    title: str
    page: str
    setup: Mapping[str, Any]
    hide: tuple[str, ...]
    question: str
    look_for: str
    answer: str

    @property
    def script(self) -> str:
        return PAGES[self.page][0]

    @property
    def url_path(self) -> str:
        """The page's path in the app's URL (st.Page names it after the script)."""
        return self.script.removeprefix("pages/").removesuffix(".py")

    def link(self, language: str | None = None, *, hide: bool = True) -> str:
        """The relative link a teacher hands out: the page, the lesson, its setup as the
        page's query parameters (so that hidden controls, which read their value from the
        URL, hold the lesson's), the language, and the controls to hide."""
        from studio_ui.lessons import setup_query  # the mechanism reads these texts

        query = [(LESSON_PARAM, self.id), *setup_query(self.page, self.setup)]
        if language:
            query.append((LANGUAGE_KEY, language))
        if hide and self.hide:
            query.append((HIDE_PARAM, ",".join(self.hide)))
        return f"{self.url_path}?{urlencode(query, safe=',')}"


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        id="shots",
        title=N_("Why 5-shot beats 1-shot"),
        page="train",
        setup={
            "dataset": "glyphs",
            "algo": "protonet",
            "n_way": 5,
            "k_shot": 1,
            "q_query": 5,
            "width": 32,
            "seed": 0,
            "val_every": 50,
            "val_episodes": 50,
        },
        hide=("dataset", "algo"),
        question=N_(
            "A Prototypical Network opens here on 5-way **1-shot** glyphs. Before you "
            "press Play: if every class came with **five** support examples instead of one, "
            "would the validation accuracy be higher, lower or the same, and why?"
        ),
        look_for=N_(
            "Press Play for about 200 episodes and note the validation accuracy. Then set "
            "K-shot to 5, start a new run with the same seed and play it as long. In the "
            "episode inspector, look at how tightly each class's points gather around its "
            "prototype (a star)."
        ),
        answer=N_(
            "5-shot wins clearly. In our runs of this setup on a CPU (200 training "
            "episodes, then 200 test episodes of unseen glyphs) the 1-shot network scored "
            "80.7% ± 1.6%, the 5-shot one 91.8% ± 1.0%. A prototype is the mean of its "
            "class's support embeddings: with one example it is that example, odd strokes "
            "and all; the mean of five lies nearer the class's centre, so fewer queries "
            "fall closer to a wrong class's prototype. It is the support set, not the "
            "training, that does it: the 1-shot network, given five shots at test time, "
            "scored 92.0% ± 1.0%, as well as the network trained with five."
        ),
    ),
    Lesson(
        id="maml_vs_protonet",
        title=N_("When does MAML beat a Prototypical Network?"),
        page="compare",
        setup={
            "dataset": "glyphs",
            "algos": ["protonet", "maml"],
            "n_way": 5,
            "k_shot": 1,
            "q_query": 5,
            "seed": 0,
            "budget_kind": "episodes",
            "episodes": 200,
            "recipes": True,
            "test_episodes": 200,
            "extra_episodes": 50,
            "validate_every": 100,
            "val_episodes": 50,
        },
        hide=("dataset", "algos"),
        question=N_(
            "MAML and a Prototypical Network train on the very same 200 glyph episodes "
            "(5-way 1-shot). Which one scores higher on the test episodes, and what would "
            "have to change for the other one to win?"
        ),
        look_for=N_(
            "Press Play until both have spent their budget: the page scores them on the "
            "same test episodes. Compare the validation curves while they train, then the "
            "table, and the charts of accuracy at other shots and after more test-time "
            "inner steps."
        ),
        answer=N_(
            "Not here: the Prototypical Network wins at every point we measured. In our run "
            "of this setup (200 training episodes each, the same 200 test episodes) it "
            "scored 80.6% ± 1.5%, MAML 75.8% ± 1.7%; it also led at 5 and 10 shots (91% "
            "and 94%, MAML 84% and 88%) and at 20-way (57%, MAML 45%). MAML's chart of "
            "test-time inner steps shows how much rests on its one step: 20% (chance) "
            "before it, 74% after the single step it trained with, then 64%, 55% and 50% "
            "after 2, 3 and 4 steps, and back at 74% after 10. A metric learner takes no steps at "
            "test time: averaging the support embeddings is its whole adaptation, which "
            "suits classes told apart by how they look. MAML wins when adapting must "
            "change the function itself, as on the sinusoid (where a prototype means "
            "nothing: the page does not even offer a Prototypical Network there), and "
            "with far longer training: in this project's Omniglot benchmark (README) MAML "
            "reached 98.1% ± 0.3% at 1-shot after minutes on a GPU, ProtoNet 97.4% ± 0.3%."
        ),
    ),
    Lesson(
        id="inner_lr",
        title=N_("An inner learning rate that is too large"),
        page="train",
        setup={
            "dataset": "sinusoid",
            "algo": "maml",
            "k_shot": 10,
            "q_query": 10,
            "width": 40,
            "seed": 0,
            "inner_lr": 1.0,
            "meta_batch": 8,
            "val_every": 50,
            "val_episodes": 20,
        },
        hide=("dataset", "algo"),
        question=N_(
            "MAML fits sine waves from 10 points. The paper takes one inner step of size "
            "α = 0.01; this setup takes α = **1.0**, a hundred times larger. Will MAML "
            "learn faster, the same, or not at all?"
        ),
        look_for=N_(
            "Press Play for about 300 meta-iterations (2,400 episodes). Watch the first "
            "points of the loss curve and the validation MSE. In the episode inspector, "
            "read the query loss after each inner step and look at the adapted curves. "
            "Then set the inner learning rate (under Hyperparameters) back to the paper's "
            "0.01, start a new run and compare."
        ),
        answer=N_(
            "Not at all: it blows up. In our run of this setup the training loss averaged "
            "969 over the first 50 meta-iterations (an untrained network starts near 4); "
            "meta-training drags it down to about 8, still worse than where it began, and "
            "the validation MSE reads nan, not a number. Validation takes 10 inner steps, "
            "and each step of size 1.0 jumps past the support loss's minimum by more than "
            "the one before: on one episode the query loss after steps 0 to 5 was 8.2, 8.3, "
            "69, 470, 1.5·10¹³ and then infinite. α is the length of the gradient step; "
            "past about 2 divided by the loss's sharpest curvature, every step lands "
            "further from the minimum than it started. With the paper's α = 0.01 the same "
            "run's loss falls from 4.3 to 2.9, and on the same episode the query loss "
            "falls at every inner step, from 4.21 to 3.49."
        ),
    ),
    Lesson(
        id="meta_vs_transfer",
        title=N_("Meta-learning against pretrain-and-fine-tune"),
        page="compare",
        setup={
            "dataset": "glyphs",
            "algos": ["maml", "transfer"],
            "n_way": 5,
            "k_shot": 1,
            "q_query": 5,
            "seed": 0,
            "budget_kind": "episodes",
            "episodes": 200,
            "recipes": True,
            "test_episodes": 200,
            "extra_episodes": 50,
            "validate_every": 100,
            "val_episodes": 50,
        },
        hide=("dataset", "algos"),
        question=N_(
            "Transfer learning pretrains one classifier on every training class, then "
            "fine-tunes on a new episode's support set; MAML practises adapting, episode "
            "after episode. With the same budget, which one is better on new classes?"
        ),
        look_for=N_(
            "Press Play until both have spent their 200 episodes: the page then scores them "
            "on the same test episodes. While they train, note which validation curve is "
            "ahead after 100 episodes and which after 200; then read the table and the "
            "charts at other shots and ways."
        ),
        answer=N_(
            "Pretrain-and-fine-tune wins here. In our run of this setup (200 training "
            "episodes each, the same 200 test episodes) transfer learning scored 80.7% ± "
            "1.7%, MAML 75.8% ± 1.7%; transfer also led at 5 shots (92%, MAML 85%) and at "
            "20-way (59%, MAML 45%). It was not ahead all along: after 100 episodes MAML "
            "led the validation, 75% to 72%; after 200, transfer led, 82% to 78%. "
            "Pretraining one classifier on every training class learns features that tell "
            "many characters apart, and a new episode only needs a head fitted on top; "
            "MAML learns a starting point for one kind of task, 5-way 1-shot, and stands on "
            "the one inner step it practised. The article calls meta-learning a "
            "generalisation of transfer learning: it learns how to adapt, where transfer "
            "reuses what it learnt. A short run shows the other side: a good representation "
            "is a strong baseline, and every meta-learner should be compared with one. "
            "(This lesson uses glyphs; the transfer baseline learns sine waves too, the MAML "
            "paper's own comparison: try the sinusoid data set with the same two learners.)"
        ),
    ),
    Lesson(
        id="matching_support",
        title=N_("Matching Networks and the support set"),
        page="train",
        setup={
            "dataset": "glyphs",
            "algo": "matchingnet",
            "n_way": 5,
            "k_shot": 1,
            "q_query": 5,
            "width": 32,
            "seed": 0,
            "learn_attention_scale": True,
            "val_every": 50,
            "val_episodes": 50,
        },
        hide=("dataset", "algo"),
        question=N_(
            "A Matching Network labels a query by attention over the support set. How much "
            "does its answer depend on *which* examples happen to be in the support set?"
        ),
        look_for=N_(
            "Press Play for about 200 episodes, then Pause. In the episode inspector, read "
            "the query accuracy and the attention (how much each query attends to each "
            'support example), then press "Another episode" several times and watch '
            "the accuracy move."
        ),
        answer=N_(
            "A lot. After 200 training episodes, the inspector's first ten episodes scored "
            "from 64% to 96%. To separate the luck of the classes from the luck of the "
            "support set, we kept an episode's classes and its 25 queries and changed only "
            "which of five drawings of each class was the one shot: over 20 such episodes "
            "the best choice scored, on average, 90%; the worst, 67%: a gap of 23 points "
            "(40 at most). Each query's label is an attention-weighted vote, the weights a "
            "softmax over its cosine similarity to every support example, so one odd "
            "drawing pulls its class's queries towards other classes. Given all five "
            "drawings, the same network scored 91%: more shots average the luck away."
        ),
    ),
    Lesson(
        id="gan_collapse",
        title=N_("Make a GAN collapse, then fix it"),
        page="gan",
        setup={
            "dataset": "ring8",
            "loss": "nonsaturating",
            "pack": 1,
            "batch_size": 256,
            "seed": 0,
            "g_lr": 1e-3,
            "d_lr": 1e-3,
            "d_steps": 1,
            "g_steps": 5,
        },
        hide=("dataset", "loss"),
        question=N_(
            "The real data is a ring of eight blobs. This plain GAN updates its generator "
            "five times for every discriminator update. Will the generated points cover "
            "all eight blobs?"
        ),
        look_for=N_(
            "Press Play and watch the generated (purple) points and the Modes count for "
            'about 600 steps. Then fix it: set Pack (m) to 2, press "Start a new GAN with '
            'these settings" and play it as long. Try also the other fix on its own: '
            "Pack back to 1 and G steps per step to 1."
        ),
        answer=N_(
            "No: it collapses. In our run of this setup the generated points covered one "
            "blob, or none, at every check from step 50 to step 600 (and still one after "
            "1,500 steps), hopping from blob to blob: five generator updates per "
            "discriminator update let the generator chase whatever the discriminator "
            "currently calls real, before the discriminator can learn that one blob is "
            "not the whole ring. Packing fixes it: with m = 2 the discriminator judges "
            "pairs of samples, and a pair from one blob is easy to tell from a real pair, "
            "so collapse is punished; the same run covered all eight blobs from step 50, "
            "with 68 in 100 samples of high quality at step 600. Balancing the updates "
            "also works, more slowly: with one generator step per step (m = 1) all eight "
            "blobs were covered from step 250."
        ),
    ),
)
LESSONS_BY_ID = {lesson.id: lesson for lesson in LESSONS}
