"""A no-op marker for the words the app shows that the core defines (titles, choices).

The core stays free of gettext and of Streamlit: ``N_("Ring of 8 Gaussians")`` returns its
argument unchanged. Babel extracts the marked strings (``babel.cfg``) into the app's
catalog, and the app translates them where it shows them (``_(dataset.title)``). The
settings' help texts and labels (``settings.setting(help=..., label=...)``) need no
marker: the app's extractor (``studio_ui/i18n_extract.py``) reads them from the calls.
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 (gettext's conventional name)
    """Marks ``message`` for extraction; returns it unchanged."""
    return message
