"""Who gets a hot lead: the dataset's `hot_lead_assignment_rule` (round robin, territory, manual).

Candidates are the client's active sales reps allowed to see the lead's dataset. The round robin's last
pick is stored on the settings row (locked while choosing), so it stays fair across restarts and workers.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from clients.access import current_client
from clients.models import User
from leads import events
from leads.models import CampaignSettings, Lead

PREFIX_RE = re.compile(r"^[A-Z]{1,2}[0-9]{0,2}[A-Z]?$")  # an outward-code prefix: L, LS, LS6, EC1A


@dataclass(frozen=True)
class Assignment:
    user: User | None
    reason: str


def reps_for(lead: Lead) -> list[User]:
    """Active sales reps who may see the lead's dataset, in a stable order."""
    reps = User.objects.filter(client=current_client(), role=User.Role.SALES_REP, status=User.Status.ACTIVE)
    return [
        rep
        for rep in reps.order_by("created_at", "pk")
        if rep.allowed_dataset_ids is None or lead.dataset_id in rep.allowed_dataset_ids
    ]


def postcode_key(postcode: str | None) -> str:
    return re.sub(r"\s+", "", (postcode or "").upper())


def territory_pick(rules: list[dict], postcode: str | None, reps: list[User]) -> User | None:
    """The rep of the longest prefix the postcode starts with, if that rep is a candidate."""
    key = postcode_key(postcode)
    by_id = {str(rep.pk): rep for rep in reps}
    matches = [rule for rule in rules or [] if key and key.startswith(rule.get("prefix", "\0"))]
    for rule in sorted(matches, key=lambda rule: len(rule["prefix"]), reverse=True):
        if rule.get("user_id") in by_id:
            return by_id[rule["user_id"]]
    return None


def round_robin_pick(reps: list[User], last_id) -> User:
    ids = [str(rep.pk) for rep in reps]
    if last_id is None or str(last_id) not in ids:
        return reps[0]
    return reps[(ids.index(str(last_id)) + 1) % len(reps)]


@transaction.atomic
def lead_hot_assign(*, lead: Lead, at: datetime) -> Assignment | None:
    """Assigns a hot lead by the dataset's rule; None when it is not automatic or already has someone."""
    options = lead.dataset.campaign_settings
    if options is None or not options.hot_lead_auto_assign or lead.assigned_to_id is not None:
        return None
    if options.hot_lead_assignment_rule == CampaignSettings.AssignmentRule.MANUAL:
        return None
    options = CampaignSettings.objects.select_for_update().get(pk=options.pk)
    reps = reps_for(lead)
    if not reps:
        reason = "No active sales rep may see this dataset: left unassigned."
        events.lead_assigned(lead, assignee=None, reason=reason)
        return Assignment(None, reason)
    user, reason = None, "Round robin"
    if options.hot_lead_assignment_rule == CampaignSettings.AssignmentRule.TERRITORY:
        user = territory_pick(options.territory_rules, lead.postcode, reps)
        reason = f"Territory: postcode {lead.postcode}" if user else "Round robin (no territory rule matched)"
    if user is None:
        user = round_robin_pick(reps, options.round_robin_last_user_id)
        CampaignSettings.objects.filter(pk=options.pk).update(round_robin_last_user_id=user.pk)
    Lead.objects.filter(pk=lead.pk).update(assigned_to=user, updated_at=at)
    lead.assigned_to = user
    events.lead_assigned(lead, assignee=user, reason=reason)
    return Assignment(user, reason)


def territory_rules_parse(text: str) -> list[dict]:
    """Staff's rules, one per line as "PREFIX rep@email" (e.g. "LS6 jo@greenstar.example"), checked: a
    postcode prefix and an active sales rep of this client, else a ValidationError naming the line."""
    reps = {
        rep.email.lower(): rep
        for rep in User.objects.filter(client=current_client(), role=User.Role.SALES_REP, status=User.Status.ACTIVE)
    }
    rules, problems = [], []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        prefix = postcode_key(parts[0]) if parts else ""
        if len(parts) != 2 or not PREFIX_RE.match(prefix):
            problems.append(f'Line {number}: write a postcode prefix and a rep\'s e-mail, e.g. "LS6 jo@example.com".')
        elif parts[1].lower() not in reps:
            problems.append(f"Line {number}: {parts[1]} is not an active sales rep of this company.")
        else:
            rules.append({"prefix": prefix, "user_id": str(reps[parts[1].lower()].pk)})
    if problems:
        raise ValidationError(problems)
    return rules


def territory_rules_text(rules: list[dict]) -> str:
    """The stored rules as staff write them."""
    emails = dict(User.objects.filter(pk__in=[r.get("user_id") for r in rules or []]).values_list("pk", "email"))
    return "\n".join(
        f"{rule['prefix']} {emails.get(_uuid(rule.get('user_id')), '(a removed user)')}" for rule in rules or []
    )


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
