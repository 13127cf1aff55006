"""The tables of docs/ACCESSIBILITY.md from the reports test_browser_axe.py writes
(test-output/e2e/axe/<role>.json): per role and page, the critical/serious violations of ours
and those Streamlit causes.

    python -m tests.e2e.axe_summary AFTER_DIR [BEFORE_DIR]
"""

import json
import sys
from collections import Counter
from pathlib import Path

ROLE_ORDER = ("signed_out", "patient", "caregiver", "drpatel", "nurse", "frontdesk", "admin")


def load(folder: Path) -> dict[str, dict]:
    reports = {path.stem: json.loads(path.read_text()) for path in folder.glob("*.json")}
    return {role: reports[role] for role in ROLE_ORDER if role in reports}


def counts(report: dict) -> dict[str, tuple[int, int]]:
    """(ours, Streamlit's) per page."""
    return {
        page: (
            sum(1 for f in findings if f["streamlit"] is None),
            sum(1 for f in findings if f["streamlit"] is not None),
        )
        for page, findings in report["pages"].items()
    }


def before_after_table(after: dict[str, dict], before: dict[str, dict]) -> str:
    lines = [
        "| Role | Page | Views | Ours before | Ours after | Streamlit's before "
        "| Streamlit's after |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for role, report in after.items():
        then = counts(before[role]) if role in before else {}
        views = report.get("views", {})
        for page, (ours, theirs) in counts(report).items():
            old = then.get(page)
            old_ours, old_theirs = (str(old[0]), str(old[1])) if old else ("-", "-")
            row = [role, page, views.get(page, 1), old_ours, ours, old_theirs, theirs]
            lines.append("| " + " | ".join(str(cell) for cell in row) + " |")
    return "\n".join(lines)


def rules_table(reports: dict[str, dict], *, streamlit: bool) -> str:
    """Per rule: how many elements, on how many pages (all roles together)."""
    elements, pages = Counter(), {}
    for role, report in reports.items():
        for page, findings in report["pages"].items():
            for f in findings:
                if (f["streamlit"] is not None) == streamlit:
                    elements[f["rule"]] += 1
                    pages.setdefault(f["rule"], set()).add((role, page))
    lines = ["| Rule | Elements | Role pages |", "| --- | ---: | ---: |"]
    lines += [f"| {rule} | {n} | {len(pages[rule])} |" for rule, n in elements.most_common()]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    after = load(Path(argv[0]))
    before = load(Path(argv[1])) if len(argv) > 1 else {}
    print(f"axe-core {next(iter(after.values()))['axe']}\n")
    print(before_after_table(after, before))
    if before:
        print("\nOurs before, by rule:\n")
        print(rules_table(before, streamlit=False))
    print("\nStreamlit's after, by rule:\n")
    print(rules_table(after, streamlit=True))


if __name__ == "__main__":
    main(sys.argv[1:])
