"""Issue 17: the server's garbage-collection policy. No full collection after every run (it was
about half of each click's CPU); the start-up heap frozen; a bounded periodic collection."""

import gc
import subprocess
import sys
import time
import tomllib
import weakref

import pytest

from components import launcher
from portal import gc_policy
from portal.config import PROJECT_ROOT


@pytest.fixture
def no_side_effects(monkeypatch):
    started = []
    monkeypatch.setattr(gc_policy, "preload", lambda *a, **k: 0)
    monkeypatch.setattr(gc_policy.PeriodicCollector, "start", lambda self: started.append(self))
    yield started
    gc.unfreeze()


def test_the_server_config_turns_the_post_run_collection_off():
    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False


def test_the_portal_policy_freezes_the_start_up_heap_and_starts_the_periodic_collection(
    no_side_effects,
):
    gc.unfreeze()
    options = launcher.gc_options("portal")
    assert options == ["--runner.postScriptGC", "false"]
    assert gc.get_freeze_count() > 1000  # the modules imported so far
    assert len(no_side_effects) == 1


def test_the_streamlit_policy_is_streamlits_own_for_comparison(no_side_effects):
    gc.unfreeze()
    assert launcher.gc_options("streamlit") == ["--runner.postScriptGC", "true"]
    assert gc.get_freeze_count() == 0
    assert no_side_effects == []


def test_a_full_collection_skips_the_frozen_heap():
    gc.collect()
    gc.unfreeze()
    began = time.perf_counter()
    gc.collect()
    unfrozen = time.perf_counter() - began
    gc_policy.freeze_startup_heap()
    try:
        began = time.perf_counter()
        gc.collect()
        frozen = time.perf_counter() - began
    finally:
        gc.unfreeze()
    assert frozen < unfrozen / 3


class _Cycle:
    def __init__(self):
        self.me = self


def test_the_periodic_collection_frees_cyclic_garbage_without_a_run():
    collector = gc_policy.PeriodicCollector(interval=0.05, refreeze_first=False)
    gc.disable()  # only the periodic collection may free it
    try:
        ref = weakref.ref(_Cycle())
        assert ref() is not None
        collector.start()
        deadline = time.monotonic() + 5
        while ref() is not None and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        collector.stop()
        gc.enable()
    assert ref() is None
    assert collector.pauses


def test_preload_imports_the_services_but_nothing_that_declares_a_custom_component():
    # Pages and components load in the first run: a custom component declared outside a run
    # (streamlit_authenticator's cookie manager) would never be registered with the server.
    code = (
        "import sys; from portal import gc_policy; n = gc_policy.preload(); m = sys.modules; "
        "print(n, 'streamlit_authenticator' in m, 'portal.services.no_show' in m)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert int(out[0]) > 20
    assert out[1:] == ["False", "True"]
