"""`{% simulator_on as name %}`: whether the lead simulator is there (the navigation shows it only then)."""

from django import template

from campaigns.transports.simulator import simulator_enabled

register = template.Library()


@register.simple_tag
def simulator_on() -> bool:
    return simulator_enabled()
