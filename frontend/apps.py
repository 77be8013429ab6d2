"""App config of the browser client."""

from django.apps import AppConfig


class FrontendConfig(AppConfig):
    """The page and its static files."""

    name = "frontend"
