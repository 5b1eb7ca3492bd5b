from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Read-only reports over the clinic's courses: the course-progress dashboard and its CSV. A
    sibling app because it reads across patients, sessions and integration and owns no model."""

    name = "reports"
    verbose_name = "Reports"
