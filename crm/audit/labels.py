"""Words for the audit log's action codes and record types; the codes themselves stay as they are stored."""

from flask_babel import lazy_gettext as _l

ACTIONS = {
    "member.view": _l("Viewed a case file"),
    "member.create": _l("Created a case file"),
    "member.update": _l("Edited a profile"),
    "member.status": _l("Changed the case status"),
    "member.verify": _l("Recorded a verification"),
    "member.reassign": _l("Reassigned a case"),
    "note.create": _l("Added a note"),
    "note.edit": _l("Corrected a note"),
    "pairing.view": _l("Viewed an introduction"),
    "pairing.propose": _l("Proposed an introduction"),
    "pairing.consent": _l("Recorded an answer"),
    "pairing.move": _l("Moved an introduction"),
    "pairing.print_cards": _l("Printed introduction cards"),
    "followup.create": _l("Added a follow-up"),
    "followup.complete": _l("Completed a follow-up"),
    "followup.feed_reset": _l("Renewed the calendar link"),
    "referral.create": _l("Referred to counselling"),
    "referral.view": _l("Viewed a referral"),
    "referral.accept": _l("Took a referral"),
    "referral.assign": _l("Assigned a referral"),
    "referral.share": _l("Shared a case with a counsellor"),
    "referral.close": _l("Closed a referral"),
    "counselling.session_log": _l("Logged a counselling session"),
    "counselling.notes_read": _l("Read confidential counselling notes"),
    "risk_alert.raise": _l("Raised a risk alert"),
    "risk_alert.acknowledge": _l("Acknowledged a risk alert"),
    "matching.weights": _l("Changed the suggestion weights"),
    "auth.password_confirmed": _l("Confirmed their password"),
    "auth.password_confirm_failed": _l("Entered a wrong password to confirm"),
}

OBJECT_TYPES = {
    "members": _l("Member"),
    "notes": _l("Note"),
    "pairings": _l("Introduction"),
    "followups": _l("Follow-up"),
    "referrals": _l("Referral"),
    "counselling_sessions": _l("Counselling session"),
    "risk_alerts": _l("Risk alert"),
    "users": _l("User"),
    "branches": _l("Branch"),
    "matching_settings": _l("Suggestion weights"),
    "system": _l("System"),
}
