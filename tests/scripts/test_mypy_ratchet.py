"""scripts/mypy_ratchet.py: known errors pass, a new one fails, line moves do not matter."""

import importlib.util
from collections import Counter

from portal.config import PROJECT_ROOT

_spec = importlib.util.spec_from_file_location(
    "mypy_ratchet", PROJECT_ROOT / "scripts" / "mypy_ratchet.py"
)
ratchet = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ratchet)

ARG = 'Argument 1 to "f" has incompatible type "int | None"; expected "int"'
OUTPUT = f"""\
portal/a.py:10: error: {ARG}  [arg-type]
portal/a.py:12: note: See https://mypy.readthedocs.io
portal/a.py:20: error: {ARG}  [arg-type]
ehr_sync/b.py:3:7: error: Name "x" already defined on line 2  [no-redef]
"""


def test_errors_are_counted_by_file_code_and_message_without_line_numbers():
    found = ratchet.parse(OUTPUT)
    assert found == Counter(
        {
            ("portal/a.py", "arg-type", ARG): 2,
            ("ehr_sync/b.py", "no-redef", 'Name "x" already defined on line N'): 1,
        }
    )  # fmt: skip


def test_the_baseline_round_trips_and_only_new_errors_fail():
    known = ratchet.parse(OUTPUT)
    baseline = ratchet.read_baseline(ratchet.write_baseline(known))
    assert baseline == known

    moved = OUTPUT.replace(":10:", ":110:").replace("on line 2", "on line 9")
    assert ratchet.compare(ratchet.parse(moved), baseline) == (Counter(), Counter())

    one_more = OUTPUT + OUTPUT.splitlines()[0].replace(":10:", ":30:") + "\n"
    new, fixed = ratchet.compare(ratchet.parse(one_more), baseline)
    assert sum(new.values()) == 1 and not fixed

    one_fixed = "\n".join(OUTPUT.splitlines()[1:])
    new, fixed = ratchet.compare(ratchet.parse(one_fixed), baseline)
    assert not new and sum(fixed.values()) == 1
