"""The Sotto Django project: settings, ASGI routing and URLs."""
