from django.urls import path

from sessions.calendar import views

app_name = "calendar"

urlpatterns: list = [
    # The therapist's week (or day) and booking from a slot.
    path("", views.week, name="week"),
    path("new/", views.new, name="new"),
    # The therapist's calendar feed (iCal): the staff page and the public, token-only feed.
    path("feed/", views.feed_page, name="feed"),
    path("feed/create/", views.feed_create, name="feed_create"),
    path("feed/revoke/", views.feed_revoke, name="feed_revoke"),
    path("feed/<str:token>.ics", views.feed_ics, name="feed_ics"),
]
