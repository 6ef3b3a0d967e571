"""`{% inbox_unread as n %}`: the nav's count of texts nobody has opened yet."""

from django import template

from campaigns.selectors import unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def inbox_unread(context) -> int:
    user = context["request"].user
    return unread_count(user) if user.is_authenticated else 0
