"""The app's pages: one list read by the navigation (app.py) and the Home page's cards.

Titles, summaries and sections are English constants marked with ``N_`` for the catalogs;
the navigation and Home translate them where they are shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studio_ui.i18n import N_

PAGES_DIR = Path(__file__).resolve().parents[1] / "pages"


@dataclass(frozen=True)
class PageEntry:
    script: str  # path relative to the repository root, as st.Page and st.page_link want it
    title: str
    icon: str
    summary: str  # the Home page card's text
    default: bool = False
    section: str = N_("Studio")  # the navigation's group

    def exists(self) -> bool:
        return (PAGES_DIR.parent / self.script).exists()


PAGE_ENTRIES = (
    PageEntry(
        "pages/home.py",
        N_("Home"),
        ":material/school:",
        N_("What few-shot meta-learning is, and one episode drawn."),
        default=True,
    ),
    PageEntry(
        "pages/train.py",
        N_("Train"),
        ":material/model_training:",
        N_(
            "Pick a data set and an algorithm (MAML, Reptile, Prototypical or Matching "
            "Networks, ...), read its update rule, press Play and watch it learn: live loss "
            "and accuracy, and an episode inspector that shows the predictions, MAML's inner "
            "steps, the embedding space with the class prototypes and Matching Networks' "
            "attention."
        ),
    ),
    PageEntry(
        "pages/compare.py",
        "Compare",
        ":material/compare_arrows:",
        "Two to four learners side by side on the very same episodes with an equal budget: "
        "live curves, each learner's view of one episode, then a score on the same test "
        "episodes with a reading of who leads; prepared comparisons open at once.",
    ),
    PageEntry(
        "pages/embeddings.py",
        N_("Embedding space"),
        ":material/bubble_chart:",
        N_(
            "Hundreds of examples of unseen classes in the learner's space, projected by PCA, "
            "t-SNE or UMAP: the initial network beside the trained one, MAML's features "
            "before and after its inner steps, with the numbers that say how well classes "
            "separate."
        ),
    ),
    PageEntry(
        "pages/gan.py",
        N_("GAN Lab"),
        ":material/scatter_plot:",
        N_(
            "A 2-D GAN in the browser, one update at a time: real and fake points, the "
            "discriminator's verdict as a heatmap, the generator's gradients, mode collapse "
            "and the losses that fight it."
        ),
    ),
    PageEntry(
        "pages/fewshot_gan.py",
        N_("Few-shot GAN"),
        ":material/auto_awesome:",
        N_(
            "A GAN meta-learned over many tasks (Reptile, as in FIGR) learns a new ring of "
            "points or a new character from a few examples; next to it, the same GAN "
            "trained from scratch, scored side by side."
        ),
    ),
    # The Learn pages follow the article's parts, in its order.
    PageEntry(
        "pages/learn_why.py",
        N_("1 · Why meta-learning"),
        ":material/lightbulb:",
        N_(
            "The three problems of machine learning that meta-learning answers, what "
            "meta-learning is, and a GAN reaching (or missing) its Nash equilibrium."
        ),
        section=N_("Learn"),
    ),
    PageEntry(
        "pages/learn_families.py",
        N_("2 · Families and neighbours"),
        ":material/account_tree:",
        N_(
            "Meta-learning against transfer learning and few-shot learning, the three "
            "families side by side, and how GANs and meta-learning help each other."
        ),
        section=N_("Learn"),
    ),
    PageEntry(
        "pages/learn_maml.py",
        N_("3 · MAML, first-order MAML, Reptile"),
        ":material/tune:",
        N_(
            "The inner step on a live sinusoid, the six steps of MAML one at a time, and "
            "first-order MAML and Reptile against MAML on the same tasks."
        ),
        section=N_("Learn"),
    ),
    PageEntry(
        "pages/learn_matching.py",
        N_("4 · Matching Networks"),
        ":material/join_inner:",
        N_(
            "Attention over the support set: the article's cosine weights beside the "
            "paper's softmax, on points you move."
        ),
        section=N_("Learn"),
    ),
    PageEntry(
        "pages/learn_prototypes.py",
        N_("5 · Prototypical Networks"),
        ":material/star:",
        N_(
            "One prototype per class, the mean of its support points: move the points and "
            "watch the prototypes and the class regions follow."
        ),
        section=N_("Learn"),
    ),
    PageEntry(
        "pages/lessons.py",
        N_("Guided lessons"),
        ":material/assignment:",
        N_(
            "Six lessons, each opening the Train, Compare or GAN Lab page on a prepared "
            "setup, with a question, what to look for, and an answer to reveal."
        ),
        section=N_("Learn"),
    ),
)


def available_pages() -> list[PageEntry]:
    """The entries whose script exists (a page still being written is left out)."""
    return [entry for entry in PAGE_ENTRIES if entry.exists()]
