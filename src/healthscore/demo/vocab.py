"""The demo's vocabulary: segments, plans, owners, account names, event mixes and the texts of
tickets, surveys and CSM notes."""

from __future__ import annotations

import numpy as np

SEGMENTS = ("SMB", "mid-market", "enterprise")
_SEG_P = (0.6, 0.3, 0.1)
_ARR_RANGE = ((5_000.0, 30_000.0), (30_000.0, 150_000.0), (150_000.0, 1_200_000.0))
_SEAT_PRICE = ((500.0, 1_000.0), (800.0, 1_500.0), (1_000.0, 2_500.0))  # ARR per seat
_PLANS = ("Starter", "Growth", "Business", "Enterprise")
# (plan index, probability) per segment
_PLAN_P = (
    (0.6, 0.4, 0.0, 0.0),
    (0.0, 0.35, 0.65, 0.0),
    (0.0, 0.0, 0.2, 0.8),
)
# CSMs: a pooled SMB team, mid-market CSMs and enterprise CSMs (12 in all).
_OWNERS = (
    ("dana.kim", "marco.rossi", "priya.shah", "tom.becker", "lena.novak"),
    ("sam.okafor", "julia.berg", "alex.moreno", "mei.tanaka"),
    ("chris.walsh", "nora.haddad", "ben.carter"),
)
_OWNER_NAMES = tuple(name for team in _OWNERS for name in team)
# How rosy each CSM's sentiment is, added to the (lagged) hidden health.
_OWNER_BIAS = (0.02, 0.10, -0.03, 0.05, 0.0, 0.08, -0.02, 0.12, 0.03, 0.04, -0.04, 0.07)

_NAME_PREFIX = (
    "North", "South", "East", "West", "Blue", "Red", "Green", "Silver", "Golden", "Iron",
    "Stone", "Bright", "Clear", "Swift", "True", "Prime", "High", "Deep", "Far", "New",
    "Wild", "Open", "Grand", "Cedar", "Maple", "Pine", "Oak", "Birch", "Willow", "Aspen",
    "River", "Lake", "Harbor", "Summit", "Valley", "Meadow", "Canyon", "Coral", "Amber", "Crystal",
    "Copper", "Cobalt", "Crimson", "Indigo", "Violet", "Polar", "Solar", "Lunar", "Sky", "Cloud",
    "Storm", "Rain", "Snow", "Frost", "Sun", "Moon", "Fox", "Bear", "Wolf", "Hawk",
    "Eagle", "Falcon", "Raven", "Lion",
)
_NAME_CORE = (
    "field", "stone", "bridge", "wave", "point", "line", "path", "works", "forge", "light",
    "gate", "port", "view", "side", "mark", "wood", "brook", "crest", "haven", "wind",
    "peak", "bay", "dale", "ford", "vale", "shore", "spring", "rock", "well", "land",
    "way", "mill", "glen", "hill", "moor", "fall", "water", "grove", "front", "track",
)
_NAME_SUFFIX = (
    "Labs", "Systems", "Analytics", "Logistics", "Health", "Foods", "Group", "Partners",
    "Software", "Capital", "Media", "Energy", "Robotics", "Retail", "Insurance", "Bank",
    "Consulting", "Networks", "Security", "Studios", "Manufacturing", "Pharma", "Travel",
    "Education", "Legal", "Realty", "Freight", "Telecom", "Biotech", "Industries", "Foundry",
    "Outfitters", "Dynamics", "Holdings", "Clinics", "Motors", "Apparel", "Marine", "Aerospace",
    "Hospitality",
)
_REGIONS = ("EMEA", "APAC", "UK", "DACH", "Canada", "LATAM", "Nordics", "France", "Japan", "ANZ")

_EVENTS = (
    "login", "report_view", "dashboard_edit", "export", "api_call", "integration_sync",
    "admin_settings", "invite_user", "alert_create",
)
_EV_API, _EV_SYNC, _EV_ALERT, _EV_REPORT = 4, 5, 8, 1
# Event mix of a thriving and of a struggling account (mixed per event by h).
_EV_P_HIGH = np.array([0.22, 0.28, 0.11, 0.04, 0.14, 0.08, 0.03, 0.03, 0.07])
_EV_P_LOW = np.array([0.42, 0.28, 0.04, 0.12, 0.06, 0.04, 0.03, 0.005, 0.005])

_TICKET_SUBJECTS = (
    ("How do I export a report to CSV?", "Question about user permissions", "Please add a new admin",
     "Request: change our billing contact", "How to set up the Slack integration?"),
    ("Dashboards broken again, this is unacceptable", "Urgent: sync failing, very frustrated",
     "Still no answer, very disappointed", "Data missing after the update, angry users",
     "Export keeps crashing, awful experience"),
)

# Comments carry the sentiment of their score band (surveys.comment_sentiment picks it up).
_NPS_COMMENTS = (
    (  # detractors 0-6
        "Too expensive for what we actually use, frankly disappointing.",
        "Support is slow and useless, we are frustrated.",
        "Hard to get the team to adopt it, a frustrating rollout.",
        "Frequent sync errors with our CRM, really annoying.",
        "Dashboards are slow and often time out. Terrible.",
        "We are unhappy and evaluating alternatives.",
        "Missing features we were promised. Very disappointed.",
        "Not sure we are getting value anymore; a poor experience.",
    ),
    (  # passives 7-8
        "Good overall, a few features are still missing.",
        "Does the job, but the UI could be simpler.",
        "Reporting is solid; exports are slow at times.",
        "Fine for our needs, pricing is a bit high.",
        "Useful, but onboarding new users takes effort.",
        "Decent product, would like more API options.",
    ),
    (  # promoters 9-10
        "Love the dashboards, the whole team uses them daily.",
        "Support is fast and genuinely helpful.",
        "Saves us hours every week on reporting, great value.",
        "The integrations just work, love it.",
        "Great product, and our CSM is excellent.",
        "Easy to roll out to new teams.",
        "Reliable and keeps getting better.",
        "Exactly what we needed for our weekly reviews, excellent.",
    ),
)
_CSAT_COMMENTS = (
    ("Took too long to load, frustrating.", "Confusing settings page.", "Export failed twice.",
     "Could not find the report I needed, annoying."),
    ("Quick and easy.", "Found what I needed, thanks!", "Works well.", "Nice new filters."),
)
_ASSESSMENT_NOTES = (
    (  # green
        "Strong adoption, exec sponsor engaged.",
        "QBR went well; expansion conversation started.",
        "Champion very positive, usage growing.",
        "Healthy account, no open risks.",
        "Rolled out to a second team.",
        "Renewal expected without issues.",
    ),
    (  # yellow
        "Usage flat; need to re-engage admins.",
        "Champion busy, slow to respond.",
        "Some frustration with recent support tickets.",
        "Budget review coming, value story needed.",
        "Adoption limited to one team.",
        "Waiting on integration fix before wider rollout.",
    ),
    (  # red
        "Champion left; no clear replacement.",
        "Exec sponsor questioning value.",
        "Usage dropped sharply this month.",
        "Escalated support issues unresolved.",
        "Customer mentioned evaluating competitors.",
        "Invoice overdue and no reply to outreach.",
    ),
)
_SENTIMENTS = ("green", "yellow", "red")
_ONBOARDING_MILESTONES = (
    ("Kickoff call", 5),
    ("SSO configured", 21),
    ("Data source connected", 30),
    ("Admin training complete", 40),
    ("First dashboard published", 45),
    ("50% seat activation", 90),
)
_GOAL_MILESTONES = (
    "Executive business review held",
    "Expand to a second department",
    "API integration live",
    "Automated weekly report set up",
    "Admin certification complete",
    "Reach 70% seat activation",
    "Migrate legacy dashboards",
    "SSO and SCIM rollout",
    "Alerting configured for key metrics",
    "Success plan refresh",
    "Data warehouse sync live",
    "Champion training session",
)
_RENEWAL_MILESTONE = "Renewal readiness review"
_ROLES = ("champion", "sponsor", "admin", "user")
_PRIORITIES = ("low", "normal", "high", "urgent")
_TICKET_STATUS = ("open", "solved", "closed")
_INVOICE_STATUS = ("paid", "open", "failed", "refunded")
_OUTCOME_KINDS = ("renewed", "churned", "contracted", "expanded")
_INTERACTION_KINDS = ("meeting", "qbr", "email", "call")
_DIRECTIONS = ("inbound", "outbound")
