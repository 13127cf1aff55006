"""The suite's markers (registered in pyproject.toml), put on each test by what it uses (the
root conftest's pytest_collection_modifyitems), so nobody has to remember them.

- ``page``: drives the app in Streamlit's AppTest (the harness, ``app_env`` and friends).
- ``fhir_server``: needs the local FHIR test server (a Node process).
- ``postgres``: the PostgreSQL case of a test that runs on both backends.
- ``browser``: the Chromium tests under tests/e2e.
- ``slow``: starts another Python process (the portal's command line, a second scheduler),
  seeds the whole demo clinic, or runs a benchmark (tests/bench): seconds of CPU each, measured.

The fast loop leaves all five out, on both cores::

  scripts/test -n 2 -m "not page and not fhir_server and not browser and not postgres and not slow"
"""

import sys
from collections.abc import Callable, Iterable
from types import CodeType, ModuleType

# Fixtures that only page tests ask for (settings for an app run, a signed-in AppTest).
PAGE_FIXTURES = frozenset({"app_env", "app_settings", "open_page"})
# Names whose use in a test, or in a helper of its module it calls, means an AppTest run.
PAGE_NAMES = frozenset(
    {"AppTest", "open_app", "open_component", "open_page", "force_page", "sign_in"}
)
FHIR_FIXTURES = frozenset({"fhir_process", "fhir_server", "fhir_client"})
FHIR_NAMES = frozenset({"running_server", "FhirTestServer"})
# A Python process of its own (``sys.executable``, ``run_cli``) or the whole demo clinic.
SLOW_NAMES = frozenset(
    {"run_cli", "Popen", "executable", "seed_demo_clinic", "seed_portal_activity"}
)


def _names(code: CodeType) -> set[str]:
    """Every global, attribute and local name a function's code (and its inner code) uses."""
    names = set(code.co_names) | set(code.co_varnames)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            names |= _names(const)
    return names


def uses_names(function: Callable | None, module: ModuleType | None, wanted: Iterable[str]) -> bool:
    """Whether ``function`` or a function of its own module that it calls (two levels down)
    uses one of ``wanted``: a test calling ``_open(...)`` that calls ``open_app`` counts."""
    wanted = frozenset(wanted)
    seen: set[CodeType] = set()
    todo = [(getattr(function, "__code__", None), 0)]
    while todo:
        code, depth = todo.pop()
        if code is None or code in seen:
            continue
        seen.add(code)
        names = _names(code)
        if names & wanted:
            return True
        if depth < 2 and module is not None:
            for name in names:
                helper = getattr(module, name, None)
                if callable(helper) and getattr(helper, "__module__", None) == module.__name__:
                    todo.append((getattr(helper, "__code__", None), depth + 1))
    return False


def _module_of(function: Callable | None, default: ModuleType | None) -> ModuleType | None:
    name = getattr(function, "__module__", None)
    return sys.modules.get(name, default) if name else default


def markers_for(
    *,
    path: str,
    fixtures: Iterable[str],
    params: dict[str, object],
    function: Callable | None = None,
    module: ModuleType | None = None,
    fixture_functions: Iterable[Callable] = (),
) -> set[str]:
    """The markers a test gets: ``path`` relative to the project root with "/" separators,
    ``fixtures`` every fixture it uses (directly or through others), ``params`` its
    parametrization (``item.callspec.params``), ``fixture_functions`` the functions of the
    project's own fixtures it uses (what they do counts as what the test does)."""
    fixtures = set(fixtures)
    found: set[str] = set()
    if path.startswith("tests/bench/"):  # the benchmarks themselves, at a small scale
        found.add("slow")
    bodies = [function, *fixture_functions]
    if any(uses_names(body, _module_of(body, module), SLOW_NAMES) for body in bodies):
        found.add("slow")
    if path.startswith("tests/e2e/"):
        found.add("browser")
    if fixtures & PAGE_FIXTURES or (function and uses_names(function, module, PAGE_NAMES)):
        found.add("page")
    if fixtures & FHIR_FIXTURES or (function and uses_names(function, module, FHIR_NAMES)):
        found.add("fhir_server")
    if "postgresql" in params.values() or any("postgres" in name for name in fixtures):
        found.add("postgres")
    return found
