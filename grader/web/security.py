"""The web side's defences, wired once: the client's address (ProxyFix for a configured number of proxies),
CSRF on every form, rate-limit storage, cookie flags and lifetime, security headers."""
from __future__ import annotations

import datetime as dt

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from grader.config import Config

csrf = CSRFProtect()  # holds no per-app state; a Limiter does (its storage), so each app gets its own

# No inline script or style anywhere: every script and stylesheet is a file under /static, nothing from a CDN.
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
               "form-action 'self'; frame-ancestors 'none'")
# Server-made SVG plots: matplotlib writes a <style> element; nothing else may load or run.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


def ratelimit_storage(cfg: Config) -> str:
    """Flask-Limiter's storage: the configured URL, else the broker's Redis, else memory (tests only)."""
    if cfg.ratelimit_storage_url:
        return cfg.ratelimit_storage_url
    url = cfg.broker_url
    if url.startswith("redis+socket://"):  # kombu's name for a Unix socket; the limits library says redis+unix
        return "redis+unix://" + url[len("redis+socket://"):]
    if url.startswith(("redis://", "rediss://")):
        return url
    return "memory://"


def _headers(response):
    response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.endpoint != "static" and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"  # pages hold a student's own results
    return response


def _hsts(response):
    response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def init_app(app: Flask, cfg: Config) -> None:
    if cfg.proxy_hops:
        # trust X-Forwarded-For / -Proto from exactly that many proxies: the address the login limits count is
        # the client's, not the proxy's, and a client cannot choose it by sending the header itself
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=cfg.proxy_hops, x_proto=cfg.proxy_hops)
    app.config.update(
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=cfg.session_hours),
        WTF_CSRF_TIME_LIMIT=None,  # a token lives as long as the session: a page left open still submits
        RATELIMIT_STORAGE_URI=ratelimit_storage(cfg),
        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 1, "socket_timeout": 1}
        if ratelimit_storage(cfg).startswith("redis") else {},
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=cfg.production,
    )
    if cfg.production:
        # __Host-: the browser sends it only over HTTPS, to this host, for every path
        app.config["SESSION_COOKIE_NAME"] = "__Host-grader"
        app.after_request(_hsts)
    csrf.init_app(app)
    app.extensions["grader.limiter"] = Limiter(get_remote_address, app=app, swallow_errors=True,
                                               in_memory_fallback_enabled=True, headers_enabled=False)
    app.after_request(_headers)


def limiter_of(app: Flask) -> Limiter:
    """The app's Flask-Limiter (its storage is per app)."""
    return app.extensions["grader.limiter"]
