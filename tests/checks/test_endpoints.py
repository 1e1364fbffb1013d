"""lockstep.helpers.endpoints: environment classification and httpx probes against a local HTTPS endpoint."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lockstep.emulator.http.tls import make_tls_files
from lockstep.helpers.endpoints import Probe, classify, environment_of, parse_probes, probe_all

ENDPOINTS = {"ERP": {"production": "https://erp.acme.example", "sandbox": "https://erp-test.acme.example/api"}}


class _InFlight:
    """How many /slow requests the server is answering at once, and the most seen."""

    def __init__(self) -> None:
        self.lock, self.now, self.most = threading.Lock(), 0, 0

    def __enter__(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.now -= 1


IN_FLIGHT = _InFlight()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/slow"):
            with IN_FLIGHT:
                time.sleep(0.3)
        if self.path == "/hang":
            time.sleep(5)
        status = 503 if self.path == "/down" else 200
        body = json.dumps({"status": "ok" if status == 200 else "down", "checks": [{"name": "db"}]}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client refusing the certificate ends the handshake: expected here


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tls = make_tls_files(tmp_path_factory.mktemp("tls"))
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.socket = tls.server_context().wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}", str(tls.ca_cert)
    httpd.shutdown()
    httpd.server_close()


def probe(url, ca, **spec):
    (one,) = parse_probes({"p": {"url": url, **spec}}, "sandbox")
    one = Probe(**{**one.__dict__, "ca_file": ca})
    return one, probe_all([one])[one.key]


def test_environment_defaults_by_kind_and_can_be_declared():
    assert environment_of("subscriber", {}) == "production"
    assert environment_of("production", {}) == "production"
    assert environment_of("staging", {}) == "sandbox"
    assert environment_of("staging", {"environment": "staging"}) == "staging"


def test_classify_by_prefix_and_by_origin():
    assert classify("https://ERP.acme.example/api/v2", ENDPOINTS) == [("ERP", "production", "https://erp.acme.example")]
    assert classify("https://erp.acme.example.evil.test", ENDPOINTS) == []
    assert classify("https://erp-test.acme.example", ENDPOINTS) == []
    assert classify("https://erp-test.acme.example", ENDPOINTS, origin_only=True)[0][1] == "sandbox"


def test_a_healthy_endpoint_meets_every_expectation(server):
    url, ca = server
    spec, result = probe(url + "/ok", ca, min_cert_days=1, json={"status": "ok", "checks.0.name": "db"})
    assert result.status == 200 and result.problems(spec) == []
    assert 1.5 < result.cert_days < 2.1


def test_each_missed_expectation_is_one_line(server):
    url, ca = server
    spec, result = probe(url + "/down", ca, json={"status": "ok", "missing.path": 1})
    assert result.problems(spec) == [
        "expected status 200, found 503",
        "expected a TLS certificate valid 14+ more days, found it expires in 2.0 days",
        "expected JSON missing.path = 1, found no such field",
        "expected JSON status = 'ok', found 'down'",
    ]


def test_latency_and_timeouts_are_bounded(server):
    url, ca = server
    spec, slow = probe(url + "/slow", ca, max_latency_ms=100, min_cert_days=0)
    assert re.fullmatch(r"expected at most 100 ms, found \d{3,} ms", slow.problems(spec)[0])
    spec, hung = probe(url + "/hang", ca, timeout_s=0.5)
    assert hung.problems(spec) == ["expected status 200, found no answer within the timeout"]


def test_tls_is_always_verified(server):
    url, _ = server
    spec, result = probe(url + "/ok", None)
    assert result.status is None
    assert "a TLS certificate that does not verify" in result.problems(spec)[0]


def test_probes_run_concurrently(server):
    url, ca = server
    probes = [Probe(f"p{i}", f"{url}/slow?{i}", ca_file=ca) for i in range(6)]
    IN_FLIGHT.most = 0
    results = probe_all(probes)
    assert {r.status for r in results.values()} == {200}
    assert IN_FLIGHT.most >= 3, f"at most {IN_FLIGHT.most} probe(s) were in flight at once"


def test_probe_specs_are_validated_and_resolved_per_environment():
    spec = {"ERP": {"url": {"production": "https://erp.acme.example/health"}}}
    assert parse_probes(spec, "sandbox") == []
    assert parse_probes(spec, "production")[0].url == "https://erp.acme.example/health"
    (emulated,) = parse_probes({"E": {"url": "${emulator.url}/services/data/"}}, "sandbox",
                               "https://127.0.0.1:1234", "/ca.pem")
    assert (emulated.url, emulated.ca_file) == ("https://127.0.0.1:1234/services/data/", "/ca.pem")
    for bad, key in (({"url": "https://x", "satus": 200}, "probes.P.satus"),
                     ({"url": "https://x.example", "timeout_s": 600}, "probes.P.timeout_s"),
                     ({"url": "${emulator.url}/x"}, "probes.P.url"),
                     ({"url": "ftp://x"}, "probes.P.url"),
                     ({"url": "https://x", "max_latency_ms": "fast"}, "probes.P.max_latency_ms")):
        with pytest.raises(ValueError, match=key.replace(".", r"\.")):
            parse_probes({"P": bad}, "sandbox")


def test_an_unusable_ca_file_is_reported_not_raised(tmp_path):
    (result,) = probe_all([Probe("p", "https://127.0.0.1:9/x", ca_file=str(tmp_path / "none.pem"))]).values()
    assert result.error and "CA file" in result.error
