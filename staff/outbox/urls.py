from django.urls import path

from staff.outbox import views

app_name = "outbox"

urlpatterns = [
    path("", views.outbox_list, name="list"),
    path("<int:message_id>/send-again/", views.outbox_resend, name="resend"),
]
