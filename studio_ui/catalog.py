"""The app's pages: one list read by the navigation (app.py) and the Home page's cards."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parents[1] / "pages"


@dataclass(frozen=True)
class PageEntry:
    script: str  # path relative to the repository root, as st.Page and st.page_link want it
    title: str
    icon: str
    summary: str  # the Home page card's text
    default: bool = False

    def exists(self) -> bool:
        return (PAGES_DIR.parent / self.script).exists()


PAGE_ENTRIES = (
    PageEntry(
        "pages/home.py",
        "Home",
        ":material/school:",
        "What few-shot meta-learning is, and one episode drawn.",
        default=True,
    ),
    PageEntry(
        "pages/train.py",
        "Train",
        ":material/model_training:",
        "Pick a data set and an algorithm (MAML, Reptile, Prototypical or Matching "
        "Networks, ...), read its update rule, press Play and watch it learn: live loss "
        "and accuracy, and an episode inspector that shows the predictions, MAML's inner steps, the embedding "
        "space with the class prototypes and Matching Networks' attention.",
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
        "Embedding space",
        ":material/bubble_chart:",
        "Hundreds of examples of unseen classes in the learner's space, projected by PCA, "
        "t-SNE or UMAP: the initial network beside the trained one, MAML's features before "
        "and after its inner steps, with the numbers that say how well classes separate.",
    ),
    PageEntry(
        "pages/gan.py",
        "GAN Lab",
        ":material/scatter_plot:",
        "A 2-D GAN in the browser, one update at a time: real and fake points, the "
        "discriminator's verdict as a heatmap, the generator's gradients, mode collapse "
        "and the losses that fight it.",
    ),
    PageEntry(
        "pages/fewshot_gan.py",
        "Few-shot GAN",
        ":material/auto_awesome:",
        "A GAN meta-learned over many tasks (Reptile, as in FIGR) learns a new ring of "
        "points or a new character from a few examples; next to it, the same GAN "
        "trained from scratch, scored side by side.",
    ),
)


def available_pages() -> list[PageEntry]:
    """The entries whose script exists (a page still being written is left out)."""
    return [entry for entry in PAGE_ENTRIES if entry.exists()]
