from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.access import admin_required
from audit.services import access_record_list
from staff.audit import selectors
from staff.audit.forms import AuditFilterForm, client_id_of, client_label, person_label

KINDS = {"views": "Record views", "changes": "Changes"}
# What the search fields ask for as the admin types: a few names to pick from, never a list
# of everyone.
SUGGESTIONS = 10
# The page's own parameters besides the filters: which tab, and the keyset cursors.
PAGING = ("kind", "after", "before")
SEARCH_PAGE = "Audit trail search"
# What the selectors filter by (the form's typed names resolve to the first two).
FILTERS = ("user", "client", "date_from", "date_to")


@admin_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    """R22: admins browse who viewed and who changed which client record. Read-only: there is no
    page, form or URL that edits or deletes an audit row.

    A keyset page of the trail (selectors.trail_page): "Older" and "Newer" links carry the first
    or last row's (time, id), so a page reads its own 25 rows from an index whatever the size of
    the trail, and rows written meanwhile neither shift nor repeat what the admin reads."""
    kind = request.GET.get("kind") if request.GET.get("kind") in KINDS else "views"
    filtering = any(request.GET.get(name) for name in request.GET if name not in PAGING)
    form = AuditFilterForm(request.GET if filtering else None, viewer=request.user)
    trail = None
    if not form.is_bound or form.is_valid():
        found = form.cleaned_data if form.is_bound else {}
        filters = {name: found[name] for name in FILTERS if found.get(name)}
        trail = selectors.trail_page(
            kind=kind,
            filters=filters,
            older=request.GET.get("after"),
            newer=request.GET.get("before"),
        )
        if filters.get("client"):
            # The trail of one client's record is a view of it (R22), recorded after the rows
            # shown were read (the page does not list its own view).
            access_record_list(
                request=request, client_ids=[filters["client"].pk], page="Audit trail"
            )
    listed = form.listed_client_ids() if form.is_bound else []
    if listed:
        # A typed name that fits several people lists them to pick from (R22: names in a list).
        access_record_list(request=request, client_ids=listed, page=SEARCH_PAGE)
    filter_query = _filter_query(form)
    return render(
        request,
        "audit/audit_log.html",
        {
            "form": form,
            "kind": kind,
            "kinds": KINDS,
            "kind_label": KINDS[kind],
            "trail": trail,
            "filter_query": filter_query,
            "query": f"kind={kind}" + (f"&{filter_query}" if filter_query else ""),
            "choices": _choice_links(form, kind),
            "time_zone": settings.TIME_ZONE,
        },
    )


def _filter_query(form: AuditFilterForm) -> str:
    """The filters as the page's links carry them: the resolved name beside each picked id."""
    if not form.is_bound:
        return ""
    query = QueryDict(mutable=True)
    for name in form.fields:
        value = form.data.get(name)
        if value:
            query[name] = value
    return query.urlencode()


def _choice_links(form: AuditFilterForm, kind: str) -> dict[str, list[tuple[str, str, str]]]:
    """For each field whose typed name fits several people: (name, detail, link that picks it)."""
    if not form.is_bound:
        return {}
    links: dict[str, list[tuple[str, str, str]]] = {}
    fields = {
        "who": ("user", person_label, _person_detail),
        "client_name": ("client", client_label, _client_detail),
    }
    for text_field, choices in form.choices.items():
        id_field, label, detail = fields[text_field]
        rows = []
        for obj in choices.rows:
            query = QueryDict(mutable=True)
            query["kind"] = kind
            for name in form.fields:
                if form.data.get(name) and name not in (text_field, id_field):
                    query[name] = form.data[name]
            query[text_field] = label(obj)
            query[id_field] = str(obj.pk)
            rows.append((label(obj), detail(obj), f"?{query.urlencode()}"))
        links[text_field] = rows
    return links


def _person_detail(user) -> str:
    return f"{user.get_role_display()} · {user.email}"


def _client_detail(client) -> str:
    parts = [
        client.email or "no e-mail address",
        f"therapist {client.primary_therapist.get_full_name()}",
    ]
    if client.is_archived:
        parts.append("archived")
    return " · ".join(parts)


@admin_required
@require_GET
def suggest(request: HttpRequest, kind: str) -> HttpResponse:
    """What the Who and Client fields offer as the admin types (htmx): at most SUGGESTIONS
    matches, each a button that fills in the field. The same gate as the page (admins only,
    404 for anyone else) and, like every signed-in response, never cached (no-store:
    kap_clinic.middleware). Clients named in it are recorded as seen (R22), as the client list's
    search does: a list of names is a view of each."""
    if kind not in ("people", "clients"):
        raise Http404
    param = "who" if kind == "people" else "client_name"
    text = request.GET.get(param, "")
    if kind == "people":
        found = selectors.people_matching(text, limit=SUGGESTIONS + 1)
        shown = [(p, person_label(p), _person_detail(p)) for p in found[:SUGGESTIONS]]
        client_ids = [pk for p, _, _ in shown if (pk := client_id_of(p)) is not None]
    else:
        found = selectors.clients_matching(request.user, text, limit=SUGGESTIONS + 1)
        shown = [(c, client_label(c), _client_detail(c)) for c in found[:SUGGESTIONS]]
        client_ids = [c.pk for c, _, _ in shown]
    rows = [(obj.pk, label, detail) for obj, label, detail in shown]
    if client_ids:
        access_record_list(request=request, client_ids=client_ids, page=SEARCH_PAGE)
    return render(
        request,
        "audit/_suggestions.html",
        {
            "kind": kind,
            "status_id": f"id_{param}-status",
            "text": " ".join(text.split()),
            "searchable": selectors.searchable(text),
            "min_length": selectors.SEARCH_MIN_LENGTH,
            "rows": rows,
            "more": len(found) > SUGGESTIONS,
        },
    )
