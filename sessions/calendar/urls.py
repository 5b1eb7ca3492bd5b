from django.urls import path

from sessions.calendar import feed_views
from sessions.calendar import views as calendar_views

app_name = "calendar"

urlpatterns: list = [
    # The therapist's week (or day) and booking from a slot.
    path("", calendar_views.week, name="week"),
    path("new/", calendar_views.new, name="new"),
    # The therapist's calendar feed (iCal): the staff page and the public, token-only feed.
    path("feed/", feed_views.feed_page, name="feed"),
    path("feed/create/", feed_views.feed_create, name="feed_create"),
    path("feed/revoke/", feed_views.feed_revoke, name="feed_revoke"),
    path("feed/<str:token>.ics", feed_views.feed_ics, name="feed_ics"),
]
