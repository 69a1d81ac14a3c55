"""MetaLearn Studio's core library: episodic tasks, meta-learning algorithms,
a tick-driven training engine, GANs, and plotly figure builders.

The core never imports streamlit; the app in ``app.py`` and ``pages/`` is a thin
layer over it, and ``python -m metalearn_core`` runs the same configurations headless.
"""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
