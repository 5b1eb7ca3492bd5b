"""The dashboard's per-course trend, drawn server-side as SVG points (no script: CSP-safe)."""

from __future__ import annotations

WIDTH, HEIGHT, PAD = 80, 28, 3
# The smallest span of scores drawn from top to bottom: a change of a point or two stays a gentle
# slope instead of filling the box.
MIN_SPAN = 6


def sparkline_points(totals: list[int]) -> str:
    """The ``points`` attribute of an SVG polyline for ``totals`` (oldest first), "" when there
    are fewer than two. Higher scores are drawn higher."""
    if len(totals) < 2:
        return ""
    low, high = min(totals), max(totals)
    span = max(high - low, MIN_SPAN)
    low -= (span - (high - low)) / 2
    step = (WIDTH - 2 * PAD) / (len(totals) - 1)
    height = HEIGHT - 2 * PAD
    return " ".join(
        f"{PAD + i * step:.1f},{PAD + height * (1 - (total - low) / span):.1f}"
        for i, total in enumerate(totals)
    )
