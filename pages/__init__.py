"""Page modules: each defines render(), which app.py registers (components/navigation.py)."""
