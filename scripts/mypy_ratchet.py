"""Run mypy (config in pyproject.toml) and fail on any error that is not in mypy-baseline.txt.

The baseline lists the errors the code had when type checking started, by file, error code and
message (no line numbers, so edits above an error do not disturb it), with how many times each
occurs. New code is held to the full check; fixing an old error makes this print that the
baseline can shrink, and ``--update`` rewrites it (only do that to remove fixed entries).

    .venv/bin/python scripts/mypy_ratchet.py            # what .ci/run does
    .venv/bin/python scripts/mypy_ratchet.py --update   # after fixing errors
"""

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "mypy-baseline.txt"
_ERROR = re.compile(
    r"^(?P<path>[^:\s]+):\d+(?::\d+)?: error: (?P<message>.*?)\s+\[(?P<code>[a-z-]+)\]$"
)
_LINE_NUMBERS = re.compile(r"\bline \d+\b")

Key = tuple[str, str, str]


def parse(output: str) -> Counter[Key]:
    """(path, code, message) of every error in mypy's output, counted; notes are skipped."""
    found: Counter[Key] = Counter()
    for line in output.splitlines():
        match = _ERROR.match(line.strip())
        if match:
            message = _LINE_NUMBERS.sub("line N", match["message"])
            found[(match["path"], match["code"], message)] += 1
    return found


def read_baseline(text: str) -> Counter[Key]:
    baseline: Counter[Key] = Counter()
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        count, path, code, message = line.split("\t", 3)
        baseline[(path, code, message)] = int(count)
    return baseline


def write_baseline(errors: Counter[Key]) -> str:
    header = "# Known mypy errors: count, file, code, message (scripts/mypy_ratchet.py).\n"
    rows = [f"{n}\t{path}\t{code}\t{msg}" for (path, code, msg), n in sorted(errors.items())]
    return header + "\n".join(rows) + "\n"


def compare(found: Counter[Key], baseline: Counter[Key]) -> tuple[Counter[Key], Counter[Key]]:
    """(new errors beyond the baseline, baseline entries no longer found)."""
    return found - baseline, baseline - found


def main(argv: list[str]) -> int:
    done = subprocess.run(  # noqa: S603 (mypy from this venv, fixed arguments)
        [sys.executable, "-m", "mypy", "--no-pretty", "--no-error-summary", "--show-error-codes"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, 1):  # 2: mypy could not run (configuration, crash)
        print(done.stdout, done.stderr, sep="\n")
        print("mypy itself failed (see above).")
        return 2
    found = parse(done.stdout)
    if "--update" in argv:
        BASELINE.write_text(write_baseline(found))
        print(f"mypy-baseline.txt: {sum(found.values())} known errors.")
        return 0
    new, fixed = compare(found, read_baseline(BASELINE.read_text()))
    for path, code, message in sorted(new):
        print(f"{path}: error: {message}  [{code}]")
    if fixed:
        print(
            f"{sum(fixed.values())} known errors are fixed: run "
            "`.venv/bin/python scripts/mypy_ratchet.py --update` to shrink the baseline."
        )
    if new:
        print(f"mypy: {sum(new.values())} new errors (above; run .venv/bin/mypy for lines).")
        return 1
    print(f"mypy: no new errors ({sum(found.values())} known ones left in mypy-baseline.txt).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
