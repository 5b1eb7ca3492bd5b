"""What the referral steps tell the floors above them (the treatment course follows them: R1).

``referral_moved``: a referral was created or changed status, sent inside the transaction that
records it. Arguments: ``referral``, ``to_status``, ``by`` (the user who recorded it)."""

from django.dispatch import Signal

referral_moved = Signal()
