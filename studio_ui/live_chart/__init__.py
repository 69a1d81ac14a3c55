"""A plotly chart that is redrawn in place, for the Train page's Play loop.

Why not ``st.plotly_chart``: every new figure gives that element a new ID, and the
browser remounts a chart whose ID changed. While playing, a frame caught between the
unmount and plotly's drawing showed an empty chart (4 blank frames in 16, see
BENCHMARKS.md), so the chart flickered.

How: ``live_chart`` mounts a component (an iframe running plotly.js) once per script run,
under a fixed key, so the browser keeps it. Its figures travel as JSON text in a hidden
element beside it, the "channel", which ``show_figure`` rewrites as often as needed within
one run (a component itself can be drawn only once per run). The iframe watches the page
and redraws with ``Plotly.react`` when the text changes (see ``index.html``).

The iframe loads the plotly.js that ships with the ``plotly`` Python package; Streamlit
serves a component's files from one folder, so that file and ``index.html`` are copied
into a folder of the system's temporary directory (named by their content; restored at
each mount if a temp cleaner removed them).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import plotly
import plotly.graph_objects as go
import streamlit as st
import streamlit.components.v1 as components
from streamlit.delta_generator import DeltaGenerator

# Plotly's own toolbar is hidden everywhere in the app; charts that redraw while a loop
# plays are static (no hover or zoom handlers to set up on every redraw).
CHART_CONFIG: dict[str, Any] = {"displayModeBar": False}
STATIC_CHART_CONFIG: dict[str, Any] = {**CHART_CONFIG, "staticPlot": True}

_HERE = Path(__file__).parent
_PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _component_folder() -> Path:
    """The folder Streamlit serves: ``index.html`` beside plotly.js, named by content."""
    page = (_HERE / "index.html").read_bytes()
    digest = hashlib.sha256(page + plotly.__version__.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"metalearn-live-chart-{digest}"


def ensure_component_files(folder: Path) -> None:
    """Copy the component's two files into ``folder`` where missing.

    Checked at every mount, not only at import: a temp cleaner may empty the folder
    under a server that runs for weeks, and the charts would then stay blank until a
    restart. Each file is written under a temporary name and renamed, so a browser (or
    another server process doing the same) never reads a half-written file.
    """
    for name, source in (("index.html", _HERE / "index.html"), ("plotly.min.js", _PLOTLY_JS)):
        target = folder / name
        if target.is_file():
            continue
        folder.mkdir(parents=True, exist_ok=True)
        part = tempfile.NamedTemporaryFile(dir=folder, prefix=f".{name}-", delete=False)
        try:
            with part, source.open("rb") as original:
                shutil.copyfileobj(original, part)
            os.replace(part.name, target)
        finally:
            Path(part.name).unlink(missing_ok=True)  # left only if the copy failed


_COMPONENT_FOLDER = _component_folder()
ensure_component_files(_COMPONENT_FOLDER)
_component = components.declare_component("live_chart", path=str(_COMPONENT_FOLDER))


def channel_key(key: str) -> str:
    """The key of the hidden container that carries the chart's figures."""
    return f"{key}_figure"


@dataclass(frozen=True)
class LiveChart:
    """A mounted chart: its key, and the hidden slot its figures are written to."""

    key: str
    channel: DeltaGenerator


def live_chart(key: str, height: int) -> LiveChart:
    """Mount the chart ``key`` here, ``height`` pixels high (once per script run).

    Pass the result to ``show_figure``. The chart keeps its last figure until a new one
    arrives.
    """
    channel = channel_key(key)
    ensure_component_files(_COMPONENT_FOLDER)
    _component(channel=channel, height=int(height), key=key, default=None)
    st.html(f"<style>.st-key-{channel} {{display: none;}}</style>")
    with st.container(key=channel):
        return LiveChart(key, st.empty())


def show_figure(
    chart: LiveChart, figure: go.Figure, *, config: dict[str, Any], revision: int = 0
) -> None:
    """Send ``figure`` to ``chart``, which redraws in place.

    The message is JSON: ``{"chart": key, "figure": ..., "config": ..., "revision": n}``.
    ``revision`` numbers the figures of a chart (the Play loop passes its redraw count), so
    a test can tell which one the page holds last.
    """
    chart.channel.text(
        f'{{"chart":{json.dumps(chart.key)},"figure":{figure.to_json()},'
        f'"config":{json.dumps(config)},"revision":{int(revision)}}}'
    )


def trace_values(trace: dict[str, Any], name: str) -> list[Any]:
    """A trace's ``x``, ``y``... from figure JSON, where plotly writes numpy arrays as
    base64 typed arrays (``{"dtype": "f8", "bdata": ...}``)."""
    value = trace.get(name, [])
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        if "shape" in value:
            array = array.reshape([int(n) for n in str(value["shape"]).split(",")])
        return array.tolist()
    return list(value)


def shown_figures(texts: list[str]) -> dict[str, dict[str, Any]]:
    """The latest figure message of each chart among ``texts`` (for tests: AppTest's
    ``at.text`` values), by chart key."""
    found = {}
    for text in texts:
        if text.startswith('{"chart":'):
            message = json.loads(text)
            found[message["chart"]] = message
    return found
