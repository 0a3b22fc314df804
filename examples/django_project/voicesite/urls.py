from django.urls import path

from . import views

urlpatterns = [
    path("twilio/voice", views.voice),
    path("health", views.health),
]
