"""/metrics: the Prometheus endpoint (grader.metrics), for configured addresses or a bearer token only.

Anyone else gets the same 404 as a page that does not exist: the endpoint is not advertised.
"""
from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST

from grader import metrics
from grader.web.db import database

bp = Blueprint("metrics", __name__)


def _allowed() -> bool:
    cfg = current_app.config["GRADER"]
    header = request.headers.get("Authorization", "")
    if cfg.metrics_token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").encode(), cfg.metrics_token.encode())
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in cfg.metrics_networks())


@bp.get("/metrics")
def scrape():
    if not _allowed():
        abort(404)
    return Response(metrics.exposition(database()), mimetype=CONTENT_TYPE_LATEST)
