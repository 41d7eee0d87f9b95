"""`grader submit`: send a script to a running grader's API, optionally wait, and print the result as the
submission page shows it. Server and token come from the options, else GRADER_SERVER / GRADER_TOKEN, else
the config file (~/.config/grader/config.toml, or GRADER_CONFIG): `server = "https://..."`, `token = "..."`.

The token goes only to the server's own origin: a redirect elsewhere is followed without it. A plain http://
server is refused unless it is this machine (loopback) or --insecure is given: the token would cross the
network in clear text.

Exit status: 0 submitted (and, with --wait, graded); 1 grading failed on the server or the wait timed out;
2 usage problems (no server or token, unreadable file, a refusal by the server).
"""
from __future__ import annotations

import ipaddress
import itertools
import json
import os
import sys
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import click

from grader import cli_report
from grader.i18n import N_, gettext
from grader.wording import points, status_word

EXIT_FAILED = 1
EXIT_USAGE = 2
FINAL = ("graded", "failed")
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class SubmitProblem(click.ClickException):
    exit_code = EXIT_USAGE


def config_path() -> Path:
    if os.environ.get("GRADER_CONFIG"):
        return Path(os.environ["GRADER_CONFIG"])
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "grader" / "config.toml"


def is_loopback(host: str | None) -> bool:
    """localhost or a loopback address: plain http:// never leaves this machine."""
    if not host:
        return False
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def settings(server: str | None, token: str | None, lang: str = "en", insecure: bool = False) -> tuple[str, str]:
    """The server URL and token: options, then environment, then the config file."""
    server = server or os.environ.get("GRADER_SERVER")
    token = token or os.environ.get("GRADER_TOKEN")
    path = config_path()
    if (not server or not token) and path.is_file():
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise SubmitProblem(gettext(lang, N_("%(path)s: cannot read the config file: %(error)s"),
                                        path=path, error=exc)) from None
        server = server or str(data.get("server") or "")
        token = token or str(data.get("token") or "")
    if not server:
        raise SubmitProblem(gettext(lang, N_("no server: pass --server URL, set GRADER_SERVER, or write "
                                             "server = \"...\" in %(path)s"), path=path))
    if not token:
        raise SubmitProblem(gettext(lang, N_("no API token: pass --token, set GRADER_TOKEN, or write token = \"...\" "
                                             "in %(path)s (staff make one with `grader users token NAME`)"), path=path))
    if urllib.parse.urlsplit(server).scheme not in ("http", "https"):
        raise SubmitProblem(gettext(lang, N_("the server must be an http:// or https:// URL, got %(server)r"),
                                    server=server))
    parts = urllib.parse.urlsplit(server)
    if parts.scheme == "http" and not is_loopback(parts.hostname) and not insecure:
        raise SubmitProblem(gettext(lang, N_("%(server)s is plain http://: your API token would cross the network "
                                             "unencrypted. Use its https:// address, or pass --insecure if you "
                                             "really mean it."), server=server))
    return server.rstrip("/"), token


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}.get(
        parts.scheme.lower())


class _TokenStaysHome(urllib.request.HTTPRedirectHandler):
    """Follows redirects, but never carries the Authorization header to another origin (scheme, host, port):
    urllib's own handler copies every header, so a redirect would hand the token to whoever it points at."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and _origin(newurl) != _origin(req.full_url):
            new.remove_header("Authorization")
        return new


_opener = urllib.request.build_opener(_TokenStaysHome)


UNAVAILABLE_RETRY_SECONDS = 180  # how long `grader submit` keeps trying a server that answers 503
RETRY_PAUSE_MAX = 10.0

class Client:
    """The few API calls `grader submit` makes (standard library only)."""

    def __init__(self, server: str, token: str, timeout: float = 30, language: str = "en",
                 unavailable_for: float = UNAVAILABLE_RETRY_SECONDS):
        self.server, self.token, self.timeout, self.language = server, token, timeout, language
        self.unavailable_for = unavailable_for

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None) -> dict:
        """One API call; a 503 (the server's database is down: nothing was stored) is tried again after the
        server's Retry-After (at most RETRY_PAUSE_MAX s apart) for up to `unavailable_for` seconds."""
        give_up_at = time.monotonic() + self.unavailable_for
        while True:
            try:
                return self._request(method, path, body, content_type)
            except Unavailable as exc:
                pause = min(RETRY_PAUSE_MAX, max(1.0, exc.retry_after))
                if time.monotonic() + pause > give_up_at:
                    raise SubmitProblem(self._("the server refused (%(code)s): %(error)s", code=503,
                                               error=exc.message)) from None
                click.echo(self._("the server is briefly unavailable; trying again in %(seconds)s s",
                                  seconds="%g" % pause), err=True)
                time.sleep(pause)

    def _request(self, method: str, path: str, body: bytes | None, content_type: str | None) -> dict:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json",
                   "User-Agent": "grader-submit/1", "Accept-Language": self.language}
        if content_type:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(self.server + path, data=body, method=method, headers=headers)
        try:
            with _opener.open(req, timeout=self.timeout) as response:  # noqa: S310 - http(s) checked
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            if exc.code == 503:
                raise Unavailable(_error_text(exc), _retry_after(exc)) from None
            raise SubmitProblem(self._("the server refused (%(code)s): %(error)s", code=exc.code,
                                       error=_error_text(exc))) from None
        except urllib.error.URLError as exc:
            raise SubmitProblem(self._("cannot reach %(server)s: %(error)s", server=self.server,
                                       error=exc.reason)) from None
        except (TimeoutError, OSError) as exc:
            raise SubmitProblem(self._("cannot reach %(server)s: %(error)s", server=self.server, error=exc)) from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise SubmitProblem(self._("%(server)s did not answer with JSON: is it a grader?",
                                       server=self.server)) from None

    def _(self, text: str, **params) -> str:
        return gettext(self.language, text, **params)

    def submit(self, filename: str, data: bytes, assignment: str) -> dict:
        boundary = uuid.uuid4().hex
        safe_name = filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
        body = b"".join([
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"assignment\"\r\n\r\n".encode(),
            assignment.encode("utf-8"), b"\r\n",
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{safe_name}\"\r\n"
            "Content-Type: text/x-python\r\n\r\n".encode("utf-8"), data, b"\r\n",
            f"--{boundary}--\r\n".encode()])
        return self.request("POST", "/api/submissions", body, f"multipart/form-data; boundary={boundary}")

    def get(self, url: str) -> dict:
        return self.request("GET", url if url.startswith("/") else "/" + url)


class Unavailable(Exception):
    """The server answered 503: try again after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.message, self.retry_after = message, retry_after


def _retry_after(exc: urllib.error.HTTPError) -> float:
    try:
        return float(exc.headers.get("Retry-After", RETRY_PAUSE_MAX))
    except (TypeError, ValueError):  # an HTTP date, or nonsense: wait the longest pause
        return RETRY_PAUSE_MAX


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read().decode("utf-8")).get("error") or exc.reason)
    except (ValueError, UnicodeDecodeError, AttributeError, OSError):
        return str(exc.reason)


def report(sub: dict, title: str = "", lang: str = "en") -> str:
    """A submission as the page shows it: score, each check (hidden ones as such), the diagnosis, the output.
    The messages come from the server already in `lang` (asked for with Accept-Language)."""
    head = f"#{sub.get('id')} {sub.get('filename', '')} — {title or sub.get('assignment', '')}"
    status = sub.get("status")
    if status == "failed":
        return f"{head}\n{cli_report.failed_text(lang)}"
    if status != "graded":
        return f"{head}\n{cli_report.status_text(lang, status)}"
    lines = [head, cli_report.score_line(lang, sub.get("score") or 0, sub.get("max_score") or 0, sub.get("late_penalty"))]
    if sub.get("points_not_shown"):  # checks not open yet (hidden, or after the deadline): not in the score
        lines[-1] += "  " + gettext(lang, N_("+ %(n)s points not shown yet"), n=points(sub["points_not_shown"]))
    for c in sub.get("checks", []):
        if "passed" in c:
            mark = cli_report.check_mark(lang, c["passed"])
            earned = f"{points(c.get('points', 0)):>6}/{points(c.get('max_points', 0)):<4}"
        else:
            mark, earned = cli_report.check_mark(lang, None), f"{'?':>6}/{points(c.get('max_points', 0)):<4}"
        lines.append(f"  {mark}  {c.get('id', ''):<14} {earned} {c.get('message', '')}")
    if sub.get("diagnoses"):
        lines.append(cli_report.diagnosis_heading(lang))
        lines += [f"  - {d.get('message', '')}" for d in sub["diagnoses"]]
    if sub.get("stdout"):
        lines += [cli_report.output_heading(lang),
                  *("  " + line for line in sub["stdout"].rstrip("\n").split("\n")[:40])]
    return "\n".join(lines)


def wait(client: Client, url: str, timeout: float, spin: bool) -> dict:
    started = time.monotonic()
    delay, frames = 0.5, itertools.cycle(SPINNER)
    sub = client.get(url)
    while sub.get("status") not in FINAL:
        if time.monotonic() - started > timeout:
            if spin:
                click.echo("\r\033[K", nl=False, err=True)
            raise click.ClickException(client._("no result after %(seconds)s s (status: %(status)s); see %(url)s",
                                                status=status_word(client.language, sub.get("status")),
                                                seconds="%g" % timeout, url=client.server + url))
        end = time.monotonic() + delay
        while time.monotonic() < end:
            if spin:
                click.echo(f"\r{next(frames)} {status_word(client.language, sub.get('status'))}… "
                           f"{time.monotonic() - started:4.0f} s", nl=False, err=True)
            time.sleep(0.1)
        delay = min(delay * 1.3, 3.0)
        sub = client.get(url)
    if spin:
        click.echo("\r\033[K", nl=False, err=True)
    return sub


@click.command("submit")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--assignment", "assignment_id", required=True, help="Assignment id, e.g. backprop-quadratic.")
@click.option("--server", default=None, help="The grader's URL [env GRADER_SERVER; config file].")
@click.option("--token", default=None, help="Your API token [env GRADER_TOKEN; config file].")
@click.option("--wait/--no-wait", "wait_", default=False, help="Wait for the result and print it.")
@click.option("--timeout", type=float, default=600, show_default=True, help="Seconds to wait with --wait.")
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON instead of the report.")
@click.option("--insecure", is_flag=True, help="Allow a plain http:// server that is not this machine.")
@cli_report.lang_option
def submit(path: str, assignment_id: str, server: str | None, token: str | None, wait_: bool, timeout: float,
           as_json: bool, insecure: bool, lang: str | None) -> None:
    """Submit PATH for grading on a grader server; with --wait, print the result as the page shows it."""
    lang = lang or cli_report.language_from_env()
    server, token = settings(server, token, lang, insecure)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SubmitProblem(cli_report.cannot_read(lang, path, exc)) from None
    client = Client(server, token, language=lang)
    accepted = client.submit(Path(path).name, data, assignment_id)
    url = accepted.get("url") or f"/api/submissions/{accepted.get('id')}"
    if not wait_:
        click.echo(json.dumps(accepted) if as_json else
                   client._("submitted #%(id)s (%(status)s): %(url)s", id=accepted.get("id"),
                            status=status_word(lang, accepted.get("status")), url=server + url))
        return
    spin = sys.stderr.isatty() and not as_json
    if not spin and not as_json:
        click.echo(client._("submitted #%(id)s; waiting for the result…", id=accepted.get("id")), err=True)
    sub = wait(client, url, timeout, spin)
    click.echo(json.dumps(sub, ensure_ascii=False) if as_json else report(sub, lang=lang))
    if sub.get("status") == "failed":
        sys.exit(EXIT_FAILED)
