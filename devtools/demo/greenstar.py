"""Who the demo client is: its names, logins, numbers and the fixed seed. No Django here: the
launcher prints the same logins without loading Django."""

from datetime import time
from zoneinfo import ZoneInfo

SLUG = "greenstar"
COMPANY = "Greenstar Solar"
DATASET_NAME = "Solar enquiries 2023–2024"
OLD_DATASET_NAME = "Facebook leads 2022"
OWNER_EMAIL, OWNER_PASSWORD = "owner@greenstar.example", "greenstar-demo"
REP_EMAIL, REP_PASSWORD = "rep@greenstar.example", "greenstar-demo"
STAFF_EMAIL, STAFF_PASSWORD = "staff@dbr.example", "dbr-staff-demo"
CLIENT_NUMBER = "+447700900000"  # the client's Twilio sender, also from the drama range
BOOKING_LINK = "https://cal.com/greenstar/solar-chat"
SEED = 20231105
LEAD_COUNT = 200
LONDON = ZoneInfo("Europe/London")
QUIET_START, QUIET_END = time(21), time(8)
