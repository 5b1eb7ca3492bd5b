"""The dashboard's per-course trend, drawn server-side as SVG points (no script: CSP-safe)."""

from __future__ import annotations

WIDTH, HEIGHT, PAD = 80, 24, 2
# PHQ-9 totals run 0-27; a fixed scale lets rows be compared at a glance.
MAX_TOTAL = 27


def sparkline_points(totals: list[int]) -> str:
    """The ``points`` attribute of an SVG polyline for ``totals`` (oldest first), "" when there
    are fewer than two. Higher scores are drawn higher."""
    if len(totals) < 2:
        return ""
    step = (WIDTH - 2 * PAD) / (len(totals) - 1)
    span = HEIGHT - 2 * PAD
    return " ".join(
        f"{PAD + i * step:.1f},{PAD + span * (1 - min(total, MAX_TOTAL) / MAX_TOTAL):.1f}"
        for i, total in enumerate(totals)
    )
