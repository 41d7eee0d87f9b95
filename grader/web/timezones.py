"""Times as the viewer reads them: their chosen time zone, else the browser's (a `tz` cookie set by our script),
else UTC."""
from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

from babel.dates import format_date, format_time
from flask import Flask, request
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup, escape

TZ_COOKIE = "tz"
UTC = dt.timezone.utc


@functools.lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def valid_zone(name: str | None) -> bool:
    return bool(name) and name in zone_names()


def viewer_zone() -> dt.tzinfo:
    chosen = getattr(current_user, "timezone", None) if current_user else None
    for name in (chosen, request.cookies.get(TZ_COOKIE)):
        if valid_zone(name):
            return zoneinfo.ZoneInfo(name)
    return UTC


def zone_label(shown: dt.datetime) -> str:
    """The zone as its offset, "UTC+8", "UTC−3:30", "UTC": an abbreviation is ambiguous (CST is China's, and
    Central America's, and Cuba's). static/app.js writes the same label in the browser."""
    offset = shown.utcoffset() or dt.timedelta(0)
    minutes = round(offset.total_seconds() / 60)
    if minutes == 0:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'+' if minutes > 0 else '−'}{hours}" + (f":{rest:02d}" if rest else "")


def local(moment: dt.datetime | None) -> str:
    """A moment in the viewer's zone, written the way their language writes dates (Dec 14, 2026 00:09 UTC+8;
    2026年12月14日 00:09 UTC+8): one format per language on every page, flash and audit detail (the browser's
    re-rendering in static/app.js writes the same), 24-hour times, and the zone always named, since deadlines
    cross zones."""
    if moment is None:
        return ""
    shown = moment.astimezone(viewer_zone())
    locale = get_locale()
    day = format_date(shown, "medium", locale=locale)
    return f"{day} {format_time(shown, 'HH:mm', locale=locale)} {zone_label(shown)}"


def time_tag(moment: dt.datetime | None) -> Markup:
    """<time datetime="ISO">local text</time>: our script re-renders it in the browser's zone when none is chosen."""
    if moment is None:
        return Markup("")
    iso = moment.astimezone(UTC).isoformat()
    return Markup(f'<time datetime="{escape(iso)}">{escape(local(moment))}</time>')


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(localtime=local, time_tag=time_tag)
