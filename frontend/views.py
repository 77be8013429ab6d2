"""Views of the page."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def index(request: HttpRequest) -> HttpResponse:
    """Serve the single page: entrance and room view."""
    return render(request, "frontend/index.html")
