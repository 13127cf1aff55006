"""The server's garbage-collection policy (issue 17): cheap clicks, flat memory.

Streamlit runs a full ``gc.collect(2)`` after every script run (``runner.postScriptGC``). On this
app a full collection walks the whole heap (Streamlit, pandas, Altair, SQLAlchemy and our
modules: ~1 million objects) and cost about half of each click's CPU. The portal instead:

1. turns the post-run collection off (``.streamlit/config.toml``),
2. imports the libraries and services every run needs, then moves that start-up heap out of
   the collector's sight (``gc.freeze()``): modules and their objects live as long as the
   process anyway. Pages and components are not imported here: a Streamlit custom component
   declared outside a script run is never registered (streamlit_authenticator's cookie
   manager), so they load in the first run, and the first periodic collection freezes again,
3. keeps the interpreter's automatic collector on (young objects, cycles as they pile up), and
4. runs one full collection every ``interval`` seconds in a daemon thread, which bounds how
   long cyclic garbage can outlive a run. After the freeze it only walks what is not frozen.

Plain Python: the launcher (components/launcher.py) applies it before the server starts.
"""

import gc
import importlib
import pkgutil
import threading
import time
from dataclasses import dataclass, field

DEFAULT_INTERVAL_SECONDS = 60.0


# Plain-Python code and libraries the pages use on every run (none of them touch Streamlit).
PRELOADED_MODULES = ("numpy", "pandas", "pyarrow", "altair", "sqlalchemy", "sqlmodel", "db.models")
PRELOADED_PACKAGES = ("portal.services",)


def preload(
    modules: tuple[str, ...] = PRELOADED_MODULES, packages: tuple[str, ...] = PRELOADED_PACKAGES
) -> int:
    """Import these modules and every module of these packages (what the first run would
    import); returns how many were imported. One that fails is left for the run to report."""
    names = list(modules)
    for name in packages:
        package = importlib.import_module(name)
        names += [info.name for info in pkgutil.walk_packages(package.__path__, f"{name}.")]
    count = 0
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 - the page's own run shows the error
            continue
        count += 1
    return count


def freeze_startup_heap() -> int:
    """Collect once, then freeze everything alive; returns the number of frozen objects."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


@dataclass
class PeriodicCollector:
    """A full collection every ``interval`` seconds, in a daemon thread; records each pause."""

    interval: float = DEFAULT_INTERVAL_SECONDS
    refreeze_first: bool = True  # after the first collection, freeze what the first runs loaded
    pauses: list[float] = field(default_factory=list)  # seconds, the last 100
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def collect_once(self) -> int:
        began = time.perf_counter()
        found = gc.collect()
        self.pauses.append(time.perf_counter() - began)
        del self.pauses[:-100]
        return found

    def _loop(self) -> None:
        first = self.refreeze_first
        while not self._stop.wait(self.interval):
            self.collect_once()
            if first:
                gc.freeze()
                first = False

    def start(self) -> "PeriodicCollector":
        self._thread = threading.Thread(target=self._loop, name="periodic-gc", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
