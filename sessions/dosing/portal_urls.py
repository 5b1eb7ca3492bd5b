"""The client portal's dosing-day pages, under /portal/prepare/ (R25: the address an e-mail
links to names no kind)."""

from django.urls import path

from sessions.dosing import portal_views as views

app_name = "dosing_day"

urlpatterns = [
    path("<int:session_id>/", views.dosing_day, name="confirm"),
]
