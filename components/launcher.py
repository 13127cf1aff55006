"""Start the portal's web server with app.py as the only entry: ``python -m components.launcher``
followed by any ``streamlit run`` options (``--server.port 8501`` ...).

Streamlit treats a ``pages/`` folder beside the entry script as an old-style multipage app until
the first run of app.py calls ``st.navigation``. Until then a deep link such as ``/audit_log``
runs the page file itself, without the sign-in gate, and lists every page file in the sidebar.
Our page files only define ``render()`` (so such a run draws nothing), and this launcher switches
the old mode off before the server starts, so the first visitor of any address meets the gate.
"""

import sys

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

from portal.config import PROJECT_ROOT

APP = PROJECT_ROOT / "app.py"


def main(argv: list[str]) -> None:
    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(APP), *argv]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
