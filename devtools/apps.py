from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Development tools: the launcher and the demo. No models; it may import every app."""

    name = "devtools"
    verbose_name = "Development tools"
