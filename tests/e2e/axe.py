"""axe-core (npm devDependency, node_modules/axe-core) run inside a Playwright page.

The app's Content-Security-Policy allows only scripts it serves itself, so a ``<script>`` added to
the page (``page.add_script_tag(content=...)``) is refused and logs a CSP violation, which fails
every browser test (tests/e2e/conftest.py). ``page.evaluate`` runs the library through the
DevTools protocol instead, outside the page's CSP, with the policy left as the app sends it.
axe is never served by the app: settings.STATICFILES_DIRS names only the runtime packages.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from playwright.sync_api import Page

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("critical", "serious")
TARGETS_SHOWN = 5

_RUN = """options => axe.run(document, options).then(result => result.violations.map(v => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    targets: v.nodes.map(node => node.target.join(" ")),
    summaries: v.nodes.map(node => node.failureSummary),
})))"""


@cache
def _source() -> str:
    if not AXE_JS.exists():
        raise FileNotFoundError(f"{AXE_JS} is missing: run `make install` (npm ci).")
    return AXE_JS.read_text(encoding="utf-8")


def violations(page: Page, tags: list[str] = WCAG_TAGS) -> list[dict]:
    """axe's violations of the WCAG 2.0/2.1 A and AA rules on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_source())
    return page.evaluate(_RUN, {"runOnly": {"type": "tag", "values": tags}})


def blocking(found: list[dict]) -> list[dict]:
    return [v for v in found if v["impact"] in BLOCKING]


def describe(found: list[dict]) -> str:
    """One paragraph per violation: rule, impact, what it asks for, and where."""
    lines = []
    for v in found:
        shown = v["targets"][:TARGETS_SHOWN]
        more = len(v["targets"]) - len(shown)
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        lines.extend(f"    {target}" for target in shown)
        if more:
            lines.append(f"    ... and {more} more")
    return "\n".join(lines)


def counts(found: list[dict]) -> dict[str, int]:
    """Violations by impact (critical, serious, moderate, minor)."""
    by_impact: dict[str, int] = {}
    for v in found:
        by_impact[v["impact"]] = by_impact.get(v["impact"], 0) + 1
    return by_impact
