"""What a database seeded by ``seed_demo --scale`` holds, so a benchmark (or a second seed run)
can tell: one row per generated clinic group."""

from __future__ import annotations

from django.db import models


class ScaleSeed(models.Model):
    scale = models.FloatField(help_text="N: per N, 50 therapists, 5,000 clients, 2,000 courses.")
    seed = models.PositiveIntegerField(help_text="The random seed: the same seed, the same data.")
    made_at = models.DateTimeField(auto_now_add=True)
    seconds = models.FloatField(help_text="How long the generation took.")
    # Rows per table after the seed, {"clinic_sessions_session": 100012, ...}.
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-made_at", "-id"]

    def __str__(self) -> str:
        return f"Scale seed N={self.scale:g} ({self.made_at:%Y-%m-%d})"
