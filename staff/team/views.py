"""Admins manage staff accounts: add (by e-mailed link), edit, deactivate, reset two-factor."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.access import admin_required
from accounts.forms import StaffEditForm, StaffInviteForm
from accounts.models import STAFF_ROLES, Role, User
from kap_clinic.errors import DomainError, add_refusal
from staff.team import selectors
from staff.team import services as caseload_services
from staff.team.forms import CaseloadReassignForm


def _staff():
    enrolled = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    return User.objects.filter(role__in=STAFF_ROLES).annotate(two_factor=Exists(enrolled))


@admin_required
def staff_list(request: HttpRequest) -> HttpResponse:
    staff = _staff().order_by("-is_active", "last_name", "first_name")
    return render(request, "staff/staff_list.html", {"staff": staff})


@admin_required
@require_http_methods(["GET", "POST"])
def staff_add(request: HttpRequest) -> HttpResponse:
    form = StaffInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.staff_invite(
            by=request.user,
            base_url=request.build_absolute_uri("/").rstrip("/"),
            **form.cleaned_data,
        )
        messages.success(
            request,
            f"{user.get_full_name()} was added. A link to choose a password will be e-mailed to "
            "them within a minute (the Outbox shows when it has gone out); they set up "
            "two-factor sign-in when they first sign in.",
        )
        return redirect("staff:list")
    return render(request, "staff/staff_form.html", {"form": form, "adding": True})


@admin_required
@require_http_methods(["GET", "POST"])
def staff_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    member = get_object_or_404(_staff(), pk=user_id)
    initial = {
        "first_name": member.first_name,
        "last_name": member.last_name,
        "role": member.role,
        "is_active": member.is_active,
    }
    form = StaffEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_update(by=request.user, user=member, **form.cleaned_data)
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(request, f"Saved changes to {member.get_full_name()}.")
            clients = selectors.caseload_count(therapist=member)
            if not member.is_active and clients:
                # Deactivation is never blocked (R24), but the clients need a therapist.
                messages.warning(
                    request,
                    f"{member.get_full_name()} still has {clients} active "
                    f"client{pluralize(clients)}. Reassign the caseload to another therapist.",
                )
                return redirect("staff:edit", user_id=member.pk)
            return redirect("staff:list")
    context = {"form": form, "member": member, "adding": False}
    if member.role == Role.THERAPIST:
        context["caseload_clients"] = selectors.caseload_count(therapist=member)
        context["caseload_courses"] = selectors.caseload_courses(therapist=member).count()
    return render(request, "staff/staff_form.html", context)


@admin_required
@require_POST
def staff_two_factor_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    member = get_object_or_404(_staff(), pk=user_id)
    services.two_factor_reset(by=request.user, user=member)
    messages.success(
        request,
        f"Two-factor sign-in was reset for {member.get_full_name()}. They will set up a new "
        "authenticator at their next sign-in.",
    )
    return redirect("staff:edit", user_id=member.pk)


@admin_required
@require_http_methods(["GET", "POST"])
def staff_caseload_reassign(request: HttpRequest, user_id: int) -> HttpResponse:
    member = get_object_or_404(User, pk=user_id, role=Role.THERAPIST)
    form = CaseloadReassignForm(request.POST or None, from_therapist=member)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = caseload_services.caseload_reassign(
                from_therapist=member,
                to_therapist=form.cleaned_data["to_therapist"],
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(
                request,
                f"{result.clients} client{pluralize(result.clients)} and {result.courses} "
                f"course{pluralize(result.courses)} moved to "
                f"{form.cleaned_data['to_therapist'].get_full_name()}.",
            )
    return render(
        request,
        "staff/staff_caseload.html",
        {
            "member": member,
            "form": form,
            "result": result,
            "to_therapist": form.cleaned_data.get("to_therapist") if result else None,
            "caseload": selectors.caseload(therapist=member),
        },
    )
