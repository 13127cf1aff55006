"""axe-core (bundled by the PyPI package axe-playwright-python) on a portal page, with the
violations Streamlit itself causes told apart from ours.

Only critical and serious violations count. Each one Streamlit causes (its own widgets and chrome,
which a page cannot change) is matched by an entry of STREAMLIT_CAUSED: the rule, a pattern of
the offending element's selector or HTML, and why it is Streamlit's. Everything else is ours.
"""

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

COUNTED_IMPACTS = frozenset({"critical", "serious"})
_AXE = Axe()


@dataclass(frozen=True)
class Finding:
    """One element that breaks one axe rule."""

    rule: str
    impact: str
    target: str
    html: str
    help: str
    # The Streamlit test ids of the element and its ancestors, innermost first
    # ("stSidebarNavItems < stSidebarNav < stSidebar < ..."): what an element is, in names
    # that do not change with Streamlit's generated CSS classes.
    within: str


@dataclass(frozen=True)
class StreamlitCaused:
    rule: str
    # Matched (re.search) against the element's test-id path (Finding.within), its selector
    # and its opening HTML.
    pattern: str
    reason: str

    def matches(self, finding: Finding) -> bool:
        if finding.rule != self.rule:
            return False
        where = f"{finding.within}\n{finding.target}\n{finding.html}"
        return bool(re.search(self.pattern, where))


STREAMLIT_CAUSED: tuple[StreamlitCaused, ...] = (
    StreamlitCaused(
        "list",
        r"^stSidebarNavItems\b",
        "st.navigation's sidebar menu: Streamlit wraps each section (header and links) in a <div> "
        "directly inside the <ul>, so the list holds more than <li> elements.",
    ),
    StreamlitCaused(
        "listitem",
        r"stSidebarNavItems",
        "st.navigation's sidebar menu: each link's <li> sits in a section <div>, not directly in "
        "the <ul> (the same markup as the list rule above).",
    ),
)


def axe_version() -> str:
    return re.search(r"axe v([\d.]+)", _AXE.axe_script[:200]).group(1)


_TEST_ID_PATH = """selectors => selectors.map(selector => {
    const ids = [];
    for (let node = document.querySelector(selector); node; node = node.parentElement) {
        const id = node.getAttribute("data-testid");
        if (id) ids.push(id);
    }
    return ids.join(" < ");
})"""


def scan(page: Page) -> list[Finding]:
    """The critical and serious violations on the page as it is drawn now."""
    results = _AXE.run(page).response
    counted = [v for v in results["violations"] if v["impact"] in COUNTED_IMPACTS]
    nodes = [(violation, node) for violation in counted for node in violation["nodes"]]
    # A target of several selectors is inside an iframe: its path starts in the outer page.
    paths = page.evaluate(_TEST_ID_PATH, [str(node["target"][0]) for _, node in nodes])
    return [
        Finding(
            rule=violation["id"],
            impact=node.get("impact") or violation["impact"],
            target=" ".join(str(part) for part in node["target"]),
            html=node["html"][:300],
            help=violation["help"],
            within=path,
        )
        for (violation, node), path in zip(nodes, paths, strict=True)
    ]


def streamlit_reason(finding: Finding) -> StreamlitCaused | None:
    return next((entry for entry in STREAMLIT_CAUSED if entry.matches(finding)), None)


def ours(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if streamlit_reason(f) is None]


def describe(page_name: str, finding: Finding) -> str:
    return f"{page_name}: {finding.rule} ({finding.impact}) {finding.target} -- {finding.html}"


def save_report(
    path: Path, role: str, pages: dict[str, list[Finding]], views: dict[str, int]
) -> None:
    """The findings of one role's pages (and how many views of each were scanned: tabs) as
    JSON, for docs/ACCESSIBILITY.md's tables."""
    path.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "axe": axe_version(),
        "role": role,
        "views": views,
        "pages": {
            name: [
                {**asdict(f), "streamlit": (r.reason if (r := streamlit_reason(f)) else None)}
                for f in findings
            ]
            for name, findings in pages.items()
        },
    }
    path.write_text(json.dumps(report, indent=2))
