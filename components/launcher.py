"""Start the portal's web server with app.py as the only entry: ``python -m components.launcher``
followed by any ``streamlit run`` options (``--server.port 8501`` ...).

Streamlit treats a ``pages/`` folder beside the entry script as an old-style multipage app until
the first run of app.py calls ``st.navigation``. Until then a deep link such as ``/audit_log``
runs the page file itself, without the sign-in gate, and lists every page file in the sidebar.
Our page files only define ``render()`` (so such a run draws nothing), and this launcher switches
the old mode off before the server starts, so the first visitor of any address meets the gate.

It also applies the garbage-collection policy (portal/gc_policy.py): libraries and services
imported and the start-up heap frozen before the server starts, a full collection once a minute
instead of after every run. ``GC_POLICY=streamlit`` keeps Streamlit's own (a full collection
after every run), for side-by-side measurement (bench/load.py).
"""

import os
import sys

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

from portal import gc_policy
from portal.config import PROJECT_ROOT

APP = PROJECT_ROOT / "app.py"


def gc_options(policy: str) -> list[str]:
    """Streamlit options for the policy; applies the portal's (freeze, periodic collection)."""
    if policy == "streamlit":
        return ["--runner.postScriptGC", "true"]
    gc_policy.preload()
    gc_policy.freeze_startup_heap()
    gc_policy.PeriodicCollector().start()
    return ["--runner.postScriptGC", "false"]


def main(argv: list[str]) -> None:
    PagesManager.uses_pages_directory = False
    options = gc_options(os.environ.get("GC_POLICY", "portal"))
    sys.argv = ["streamlit", "run", str(APP), *options, *argv]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
