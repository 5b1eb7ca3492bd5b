"""Treatment courses and the prescriber hand-off summary, under /clients/<client_id>/courses/."""

from django.urls import path

from patients.courses import views

app_name = "courses"

urlpatterns = [
    path("", views.course_list, name="list"),
    path("open/", views.course_open, name="open"),
    path("<int:course_id>/", views.course_detail, name="detail"),
    path("<int:course_id>/phase/", views.course_transition, name="transition"),
    path("<int:course_id>/handoff/", views.course_handoff, name="handoff"),
]
