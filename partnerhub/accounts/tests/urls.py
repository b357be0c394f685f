"""The project's URLs plus views that exist only to exercise the accounts machinery in tests."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns
from partnerhub.access.decorators import login_only
from partnerhub.accounts.reauth import reauth_required


@login_only
def portal_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("portal page")


@reauth_required
@login_only
def sensitive_outer(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"sensitive {request.method}")


@login_only
@reauth_required
def sensitive_inner(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"sensitive {request.method}")


urlpatterns = [
    path("test/portal/", portal_page, name="test_portal_page"),
    path("test/sensitive-outer/", sensitive_outer, name="test_sensitive_outer"),
    path("test/sensitive-inner/", sensitive_inner, name="test_sensitive_inner"),
    *project_urlpatterns,
]
