"""System prompt templates and default lessons, written from DOMAIN.md."""

SYSTEM_TEMPLATES = [
    {
        "name": "Solar DBR — general",
        "description": "General reactivation prompt.",
        "category": "general",
        "template_structure": {"context": {"content": "You are {agent_name} at {company_name}."}},
    },
]

DEFAULT_LESSONS = [
    {
        "lesson_type": "never_rule",
        "title": "Never call solar free",
        "description": "Never describe panels as free, fully funded or government-backed.",
        "priority": 100,
        "tags": ["compliance"],
    },
]
