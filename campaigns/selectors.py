from django.db.models import QuerySet

from campaigns.models import Conversation, Message
from clients.models import User
from leads.selectors import leads_visible_to


def conversations_visible_to(user: User) -> QuerySet[Conversation]:
    return Conversation.objects.filter(lead__in=leads_visible_to(user))


def messages_visible_to(user: User) -> QuerySet[Message]:
    return Message.objects.filter(lead__in=leads_visible_to(user))
