"""Streamlit-side helpers for MetaLearn Studio's pages (the core never imports these)."""
