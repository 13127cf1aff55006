"""Clinic Portal domain: plain Python, never imports streamlit."""
