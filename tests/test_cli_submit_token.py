"""`grader submit` keeps its token at home: a redirect to another origin is followed without the Authorization
header (urllib's own handler would copy it), one to the same origin keeps it; plain http:// is refused unless
the server is this machine or --insecure is given."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from grader.cli_submit import Client, SubmitProblem, settings


class Recorder(BaseHTTPRequestHandler):
    """Answers JSON and writes down the Authorization header of every request; /away redirects elsewhere."""

    seen: list[tuple[str, str | None]]
    elsewhere: str = ""

    def do_GET(self):  # noqa: N802 - http.server's name
        self.seen.append((self.path, self.headers.get("Authorization")))
        if self.path == "/api/away":
            self.send_response(302)
            self.send_header("Location", self.elsewhere + "/api/landed")
            self.end_headers()
            return
        if self.path == "/api/here":
            self.send_response(302)
            self.send_header("Location", "/api/landed")
            self.end_headers()
            return
        body = json.dumps({"status": "graded"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve(host: str) -> tuple[ThreadingHTTPServer, list]:
    seen: list = []
    handler = type("Handler", (Recorder,), {"seen": seen})
    server = ThreadingHTTPServer((host, 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


@pytest.fixture
def two_origins():
    home, home_seen = serve("127.0.0.1")
    other, other_seen = serve("127.0.0.1")
    home.RequestHandlerClass.elsewhere = f"http://localhost:{other.server_address[1]}"
    yield f"http://127.0.0.1:{home.server_address[1]}", home_seen, other_seen
    home.shutdown()
    other.shutdown()


def test_a_redirect_to_another_origin_does_not_carry_the_token(two_origins):
    url, home_seen, other_seen = two_origins
    assert Client(url, "s3cret").get("/api/away") == {"status": "graded"}
    assert home_seen == [("/api/away", "Bearer s3cret")]
    assert other_seen == [("/api/landed", None)]


def test_a_redirect_on_the_same_origin_keeps_the_token(two_origins):
    url, home_seen, _other = two_origins
    Client(url, "s3cret").get("/api/here")
    assert home_seen == [("/api/here", "Bearer s3cret"), ("/api/landed", "Bearer s3cret")]


@pytest.mark.parametrize("server", ["http://grader.example.edu", "http://10.0.0.5:8000", "http://[2001:db8::1]/"])
def test_plain_http_to_another_machine_is_refused_without_insecure(server):
    with pytest.raises(SubmitProblem, match="unencrypted"):
        settings(server, "token")
    assert settings(server, "token", insecure=True)[0] == server.rstrip("/")


@pytest.mark.parametrize("server", ["http://127.0.0.1:5000", "http://localhost:8000", "http://[::1]:80",
                                    "https://grader.example.edu"])
def test_https_and_this_machine_need_no_flag(server):
    assert settings(server, "token")[0] == server


def test_the_command_refuses_plain_http_and_takes_insecure(tmp_path):
    from click.testing import CliRunner

    from grader.cli_submit import submit

    script = tmp_path / "hw.py"
    script.write_text("print(1)\n")
    args = [str(script), "--assignment", "a", "--server", "http://grader.example.invalid", "--token", "t"]
    refused = CliRunner().invoke(submit, args)
    assert refused.exit_code == 2 and "--insecure" in refused.output
    tried = CliRunner().invoke(submit, args + ["--insecure"])
    assert tried.exit_code == 2 and "cannot reach" in tried.output  # it went on to connect
