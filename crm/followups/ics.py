"""A hand-written iCalendar (RFC 5545) feed: one all-day VEVENT per open follow-up.

Hand-written because it is a few lines: CRLF line ends, text escaping (backslash, semicolon,
comma, newline) and folding of lines longer than 75 octets.
"""

from crm.clock import now_utc


def escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def fold(line: str) -> str:
    """Split a content line into 75-octet pieces, continuation lines starting with a space."""
    out, current = [], b""
    for ch in line:
        encoded = ch.encode()
        limit = 75 if not out else 74
        if len(current) + len(encoded) > limit:
            out.append(current.decode())
            current = b""
        current += encoded
    out.append(current.decode())
    return "\r\n ".join(out)


def calendar(followups, host: str, name: str, summary_of) -> str:
    stamp = now_utc().strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Queqiao//Follow-ups//ZH", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{escape(name)}"]
    for f in followups:
        lines += ["BEGIN:VEVENT", f"UID:followup-{f.id}@{host}", f"DTSTAMP:{stamp}",
                  f"DTSTART;VALUE=DATE:{f.due_on:%Y%m%d}",
                  "DURATION:P1D",  # all day (an end date would overflow on 9999-12-31)
                  f"SUMMARY:{escape(summary_of(f))}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
