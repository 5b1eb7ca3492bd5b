from django.urls import path

from staff.team import views

app_name = "staff"

urlpatterns = [
    path("", views.staff_list, name="list"),
    path("add/", views.staff_add, name="add"),
    path("<int:user_id>/", views.staff_edit, name="edit"),
    path(
        "<int:user_id>/reassign-caseload/",
        views.staff_caseload_reassign,
        name="caseload_reassign",
    ),
    path(
        "<int:user_id>/reset-two-factor/",
        views.staff_two_factor_reset,
        name="two_factor_reset",
    ),
]
