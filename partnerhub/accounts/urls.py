from django.urls import path

from partnerhub.accounts import views

urlpatterns = [
    path("profile/", views.profile, name="profile"),
]
