from django import template
from django.utils.html import format_html

from clients.branding import brand_colours

register = template.Library()


@register.simple_tag(takes_context=True)
def brand_style(context) -> str:
    """The client's colour and the text colour that reads on it, as CSS custom properties."""
    request = context.get("request")
    colour, ink = brand_colours(getattr(request, "tenant", None))
    return format_html("<style>:root {{ --brand: {}; --brand-ink: {}; }}</style>", colour, ink)
