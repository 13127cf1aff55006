"""Every kind of request that feeds the triage inbox. A new request type (visit request, reading
alert, referral) adds its module here; importing it registers its ``triage.KindSpec``."""

from portal.services import messages, profile_changes, referrals, refills
from portal.services.readings import alerts as reading_alerts
from portal.services.scheduling import visit_requests

REQUEST_MODULES = (messages, refills, profile_changes, visit_requests, reading_alerts, referrals)
