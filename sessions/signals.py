"""What the dosing session publishes for the apps above it (the integration reminders, R8).

- ``dose_recorded(sender, dose)``: sent INSIDE dose_record's transaction, right after the dose row
  is written. A receiver that writes rows (a reminder plan) joins that transaction: the dose and
  its plan are saved together or not at all. Queue Celery work from here only with
  ``transaction.on_commit``.
"""

from django.dispatch import Signal

dose_recorded = Signal()
