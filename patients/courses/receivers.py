"""The treatment course follows what happened to its referral (R1), heard from
patients.referrals.signals (the referral steps sit on a lower floor). Connected by
kap_clinic.apps, the floor that may import every app."""

from __future__ import annotations

from django.dispatch import receiver

from patients.courses import services
from patients.referrals.signals import referral_moved


@receiver(referral_moved, dispatch_uid="courses.follow_referral")
def follow_referral(sender, referral, to_status, by, **kwargs) -> None:
    # In the referral's transaction: the step and the course's move commit together.
    services.course_follow_referral(referral=referral, to_status=to_status, by=by)
