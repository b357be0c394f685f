from django.urls import path

from partnerhub.partners import views

urlpatterns = [
    path("o/<slug:org_slug>/program/", views.program_settings, name="program_settings"),
    path("o/<slug:org_slug>/program/volume-tiers/", views.volume_tier_add, name="volume_tier_add"),
    path("o/<slug:org_slug>/program/volume-tiers/<int:tier_id>/", views.volume_tier_change, name="volume_tier_change"),
    path(
        "o/<slug:org_slug>/program/volume-tiers/<int:tier_id>/remove/",
        views.volume_tier_remove,
        name="volume_tier_remove",
    ),
]
