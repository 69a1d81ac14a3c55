"""A plotly chart that is redrawn in place, for the Play loops of Train and GAN Lab.

Why not ``st.plotly_chart``: every new figure gives that element a new ID, and the
browser remounts a chart whose ID changed. While playing, a frame caught between the
unmount and plotly's drawing showed an empty chart (4 blank frames in 16, see
BENCHMARKS.md), so the chart flickered.

How, on Streamlit's public component API (``st.components.v2``): ``live_chart`` mounts
the chart's *view* once per script run under the chart's fixed key, so the browser keeps
it. Each figure then travels as the argument of a small hidden *figure* instance of the
same component, mounted in a placeholder beside the view (``show_figure``; a keyed element
can be drawn only once per run, and the Play loop sends many figures per run, so each
figure gets a key of its own). The component's script (``frontend/live_chart.js``, one
module per page) draws the newest figure into the view with ``Plotly.react``: in place,
never blank.

Files: the script and plotly.js (the copy that ships with the ``plotly`` Python package)
are served from where they are installed, through ``st.components.v1.declare_component``
whose only job here is to serve a folder (components v2 serve files only for a package
installed with a component manifest; this app runs from its folder). Nothing is written.

Bounded: every figure instance is a widget that Streamlit remembers until the script run
ends (about 2.4 KB each, measured). So that a Play loop left running for an hour does not
grow without bound, a run that has sent ``MAX_FIGURES_PER_RUN`` figures asks for a rerun
(the same thing a button press does: the page runs again and the loop carries on; the
views keep their keys, so nothing is remounted).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st
import streamlit.components.v1 as components_v1
from plotly.utils import PlotlyJSONEncoder
from streamlit.delta_generator import DeltaGenerator

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

# Plotly's own toolbar is hidden everywhere in the app; charts that redraw while a loop
# plays are static (no hover or zoom handlers to set up on every redraw).
CHART_CONFIG: dict[str, Any] = {"displayModeBar": False}
STATIC_CHART_CONFIG: dict[str, Any] = {**CHART_CONFIG, "staticPlot": True}

# Figures one script run may send before it reruns (about 2.4 MB of Streamlit's
# per-run widget records; at ~10 redraws per second, a rerun every minute or two).
MAX_FIGURES_PER_RUN = 1000
MAX_HEIGHT = 4000  # pixels

_FRONTEND = Path(__file__).parent / "frontend"
_PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"

# Served folders (never mounted as components): the app's script, and plotly's package data.
_SCRIPT_FILES = components_v1.declare_component("script", path=str(_FRONTEND))
_PLOTLY_FILES = components_v1.declare_component("plotly", path=str(_PLOTLY_JS.parent))


def _served_path(component: Any, filename: str, version: str) -> str:
    """The file's address relative to the app's base URL, as Streamlit's own page loads
    its files (so it works under ``server.baseUrlPath`` or behind a proxy's prefix). The
    version makes a browser fetch the file again after an upgrade."""
    return f"./component/{component.name}/{filename}?v={version}"


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


SCRIPT_PATH = _served_path(
    _SCRIPT_FILES, "live_chart.js", _file_digest(_FRONTEND / "live_chart.js")
)
PLOTLY_PATH = _served_path(_PLOTLY_FILES, "plotly.min.js", plotly.__version__)

# The component's own code is this loader: it imports the served module (one module per
# page, whose state every instance shares) and hands it the instance.
_LOADER_JS = """export default async function (component) {
  const url = new URL(component.data.script, document.baseURI);
  return (await import(url.href)).default(component);
}"""
_component = st.components.v2.component(
    "metalearn_studio.live_chart", js=_LOADER_JS, isolate_styles=False
)


def figures_key(key: str) -> str:
    """The key of the hidden container that holds the chart's figure instances."""
    return f"{key}_figures"


@dataclass
class LiveChart:
    """A mounted chart: its key, the hidden slot its figures go to, how many figures it
    has been sent in this script run (each needs a key of its own), and the ``signature``
    its latest figure was sent with (what its data was built from: a Play loop compares
    it before building a figure, and skips a chart whose data has not changed, since the
    browser redraws every figure it receives)."""

    key: str
    slot: DeltaGenerator
    sent: int = 0
    signature: Any = None


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key or "__" in key:
        raise ValueError(f"a live chart's key must be a non-empty text without '__', got {key!r}")


def live_chart(key: str, height: int) -> LiveChart:
    """Mount the chart ``key`` here, ``height`` pixels high (once per script run).

    Pass the result to ``show_figure``. The chart keeps its last figure until a new one
    arrives.
    """
    _check_key(key)
    if isinstance(height, bool) or not isinstance(height, int | np.integer):
        raise ValueError(f"a live chart's height is a whole number of pixels, got {height!r}")
    if not 1 <= height <= MAX_HEIGHT:
        raise ValueError(f"a live chart's height must be 1 to {MAX_HEIGHT} pixels, got {height}")
    height = int(height)
    view = {"role": "view", "chart": key, "height": height, "plotly": PLOTLY_PATH}
    _component(key=key, data={**view, "script": SCRIPT_PATH}, height=height)
    figures = figures_key(key)
    st.html(f"<style>.st-key-{figures} {{display: none;}}</style>")
    with st.container(key=figures):
        return LiveChart(key, st.empty())


@functools.cache
def _template_parts(name: str | None) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """The layout part of plotly's template ``name`` and its part per trace type."""
    if not name:
        return {}, {}
    template = pio.templates[name].to_plotly_json()
    return template.get("layout", {}), template.get("data", {})


def _with_default_template(spec: Mapping[str, Any]) -> dict[str, Any]:
    """``spec`` with the template a ``go.Figure`` of it would carry (plotly's default):
    its layout part, and its part for the kinds of trace ``spec`` holds, not the dozens of
    others (the browser reads and merges what it is sent on every redraw)."""
    layout = spec.get("layout") or {}
    if "template" in layout:
        return dict(spec)
    template_layout, by_type = _template_parts(pio.templates.default)
    if not template_layout and not by_type:
        return dict(spec)
    kinds = {trace.get("type", "scatter") for trace in spec.get("data") or ()}
    data = {kind: by_type[kind] for kind in sorted(kinds) if kind in by_type}
    return {**spec, "layout": {**layout, "template": {"data": data, "layout": template_layout}}}


def figure_json(figure: go.Figure | Mapping[str, Any]) -> str:
    """The JSON text of ``figure``, a ``go.Figure`` or plotly's JSON structure of one.

    A ``go.Figure`` is serialised by plotly (about 1 ms for the Train page's curves; building
    and validating it cost ~4 ms more, measured). A figure given as plain dicts and lists
    (``{"data": [...], "layout": {...}}``) is written as it is (~0.1 ms), with plotly's
    default template as a ``go.Figure`` would have it; numpy arrays, NaN and infinities go
    through plotly's encoder (NaN becomes null, as plotly writes it).
    """
    if isinstance(figure, go.Figure):
        return figure.to_json()
    if not isinstance(figure, Mapping):
        raise TypeError(f"a figure is a go.Figure or a dict of plotly JSON, got {type(figure)}")
    spec = _with_default_template(figure)
    try:
        return json.dumps(spec, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        return json.dumps(spec, cls=PlotlyJSONEncoder)


def show_figure(
    chart: LiveChart,
    figure: go.Figure | Mapping[str, Any],
    *,
    config: dict[str, Any],
    revision: int = 0,
    signature: Any = None,
) -> None:
    """Send ``figure`` (a ``go.Figure``, or plotly's JSON structure of one, see
    ``figure_json``) to ``chart``, which redraws in place.

    The figure instance's argument is ``{"role": "figure", "chart": key, "figure": <the
    figure's JSON text>, "config": ..., "revision": n}``. ``revision`` numbers the figures
    of a chart (the Play loop passes its redraw count), so a test can tell which one the
    page holds last. After ``MAX_FIGURES_PER_RUN`` figures in one script run this reruns
    the script (see the module's docstring). ``signature`` is kept as ``chart.signature``.
    """
    if chart.sent >= MAX_FIGURES_PER_RUN:
        st.rerun()
    chart.sent += 1
    chart.signature = signature
    message = {
        "role": "figure",
        "chart": chart.key,
        "figure": figure_json(figure),
        "config": config,
        "revision": int(revision),
        "script": SCRIPT_PATH,
    }
    with chart.slot:
        _component(key=f"{chart.key}-figure-{chart.sent}", data=message)


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


def mounted_data(proto: Any) -> Any:
    """The argument a component instance was mounted with, from its message (a
    ``BidiComponent`` proto; AppTest's ``element.proto``); None when it had none."""
    kind = proto.WhichOneof("data")
    if kind == "json":
        return json.loads(proto.json)
    if kind == "mixed":
        return json.loads(proto.mixed.json)
    return None


def shown_figures(app: AppTest) -> dict[str, dict[str, Any]]:
    """For page tests: the latest figure each chart of ``app`` (an ``AppTest`` after a run)
    was sent, by chart key: ``{"chart", "figure" (a dict), "config", "revision"}``."""
    if isinstance(app, list | tuple):
        raise TypeError("shown_figures takes the AppTest itself now (the figures are no text)")
    found = {}
    for element in app.get("bidi_component"):
        message = mounted_data(element.proto)
        if isinstance(message, dict) and message.get("role") == "figure":
            found[message["chart"]] = {
                "chart": message["chart"],
                "figure": json.loads(message["figure"]),
                "config": message["config"],
                "revision": message["revision"],
            }
    return found
