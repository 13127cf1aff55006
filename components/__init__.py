"""Reusable Streamlit widgets. UI layer only: they call services, never SQL."""
