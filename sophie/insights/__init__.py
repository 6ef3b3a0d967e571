"""Insights: what Sophie's work shows staff, made automatically (docs/learning.md).

- `rules`: one small pure function per check of an AI message (emoji, blacklist, never-rules, ...).
- `messages`: after each AI send, the checks (and an LLM review when a model is set) give the message a
  quality score and open an insight per finding.
- `conversations`: when a conversation needs a person to look (hand-off, complaint, low score).
- `campaigns`: nightly patterns per dataset (reply rate by step, opt-outs, carrier filtering, time of day).
- `review`: the review queue's services (record, approve and learn, teach Sophie, dismiss) and its reads.
"""
