"""Home page through Streamlit's AppTest, run via app.py's navigation."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from studio_ui.catalog import available_pages
from studio_ui.serving import REPO_ROOT


def test_home_renders_text_episode_and_a_card_per_page():
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "MetaLearn Studio"
    assert "support set" in at.markdown[0].value and "query set" in at.markdown[0].value
    assert len(at.get("plotly_chart")) == 1, "the episode picture is missing"
    assert not at.info, f"the episode picture failed: {[i.value for i in at.info]}"
    # a page link carries the page's URL path: the script's name without ".py"
    links = {link.proto.page.rsplit("/", 1)[-1] for link in at.get("page_link")}
    expected = {Path(e.script).stem for e in available_pages() if not e.default}
    assert {"train", "gan", "fewshot_gan"} <= expected  # the GAN Lab is two pages
    assert links == expected
    card_titles = [m.value for m in at.markdown if m.value.startswith("#### ")]
    assert card_titles == [f"#### {e.title}" for e in available_pages() if not e.default]
