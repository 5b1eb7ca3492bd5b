"""What the dosing session publishes for other apps (the integration reminders of issue 6).

- ``dose_recorded(sender, dose)``: sent INSIDE dose_record's transaction, right after the dose row
  is written. A receiver that writes rows (a reminder plan) joins that transaction: the dose and
  its plan are saved together or not at all. Queue Celery work from here only with
  ``transaction.on_commit``.
- ``dose_committed(sender, dose_id)``: sent once the transaction has committed (on_commit), for
  work that must only happen for a dose that really exists (tasks, e-mail).
"""

from django.dispatch import Signal

dose_recorded = Signal()
dose_committed = Signal()
