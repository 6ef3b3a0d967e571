from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.simple_tag
def url_if_exists(name: str) -> str:
    """The URL of a page another part of Sophie may not have yet (the prompts tab), or ""."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""
