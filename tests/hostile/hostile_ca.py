#!/usr/bin/env python3
"""hostile_ca.py -- an adversarial ACME (RFC 8555) server for certagent's tests.

It serves a plausible ACME flow over HTTPS on 127.0.0.1 (directory, newNonce
with Replay-Nonce, newAccount, newOrder, authorizations, http-01 challenges
really validated against the client's responder when --http-01-port is given,
finalize, certificate download) and misbehaves as --scenario says. The
scenario `baseline` does not misbehave: it proves the server is a CA a correct
client can get a certificate from, so that every refusal in the other
scenarios is about the hostility and nothing else.

  hostile_ca.py --scenario NAME --dir DIR [--port 0] [--http-01-port P]
  hostile_ca.py --list

Writes DIR/trust.pem (the throwaway root that signs the server's TLS
certificate: give it to the client as --trust), appends one line per request to
DIR/requests.log ("METHOD PATH STATUS"), and prints "READY <directory URL>" on
stdout once it accepts connections. Runs until killed.

Needs python3-cryptography (Debian 12: scripts/bootstrap installs it).
"""
import argparse
import base64
import hashlib
import http.client
import json
import os
import ssl
import sys
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_pki  # noqa: E402

ESC = "\x1b]0;pwned\x07\x1b[2J\x1b[31mRED\x1b[0m"
THIRTY_YEARS = 30 * 365 * 24 * 3600

SCENARIOS = {
    "baseline": "a well-behaved CA (the control: the client must succeed)",
    "token-slash": "the http-01 token contains '/'",
    "token-dotdot": "the http-01 token is a path traversal ('../../hostile-pwned')",
    "token-nul": "the http-01 token contains a NUL byte",
    "token-shell": "the http-01 token is shell metacharacters ('$(touch pwned);`id`|&')",
    "token-escape": "the http-01 token contains terminal escape sequences",
    "token-long": "the http-01 token is 10 KB of base64url characters",
    "authz-identifier-mismatch": "an authorization names an identifier the order does not",
    "order-identifier-mismatch": "the order's identifiers are not the names asked for",
    "authz-excess": "an order for 2 names lists 900 authorizations",
    "many-authz": "an order lists 20,000 authorizations",
    "problem-escape": "newOrder fails with a problem document full of terminal escapes",
    "deep-json-problem": "newOrder fails with a problem document nested 100,000 deep",
    "deep-json": "the directory is JSON nested 100,000 deep",
    "oversized-body": "the directory is 50 MB (with Content-Length)",
    "oversized-unbounded": "the directory is 50 MB (no Content-Length, ends at close)",
    "trickle": "the directory body arrives one byte a second",
    "retry-after-zero": "newOrder answers 503 with Retry-After: 0, forever",
    "retry-after-30y": "newOrder answers 429 with Retry-After of thirty years (delta-seconds)",
    "retry-after-30y-date": "newOrder answers 429 with Retry-After of thirty years (HTTP-date)",
    "poll-retry-after-zero": "challenges stay 'processing' forever; every answer says Retry-After: 0",
    "poll-retry-after-30y": "challenges stay 'processing'; the CA says Retry-After of thirty years",
    "poll-then-other-names": "as poll-retry-after-30y, and once a challenge was answered the order says it is for other names",
    "redirect-loop": "the directory answers 302 to itself",
    "directory-http": "the directory's URLs are plain http://",
    "order-http": "the order's authorization, finalize and certificate URLs are plain http://",
    "location-escape": "newOrder's Location header carries terminal escapes and a line break",
    "directory-switch": "the directory is fine once, then lists http:// URLs on the next fetch",
    "cert-other-key": "the certificate is for another key",
    "cert-other-names": "the certificate is for other names",
    "cert-expired": "the certificate expired long ago",
    "chain-private-key": "the chain carries a PRIVATE KEY block",
    "chain-garbage": "the chain is random bytes",
    "chain-broken": "the intermediate in the chain did not sign the leaf",
}


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwk_thumbprint(jwk):
    """RFC 7638 over the required members only."""
    members = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}.get(jwk.get("kty"), ())
    canonical = json.dumps({k: jwk[k] for k in members}, separators=(",", ":"), sort_keys=True)
    return b64u(hashlib.sha256(canonical.encode()).digest())


def hostile_token(scenario, n):
    base = b64u(os.urandom(24))
    return {
        "token-slash": base[:10] + "/" + base[10:],
        "token-dotdot": "../../hostile-pwned",
        "token-nul": base[:10] + "\x00" + base[10:],
        "token-shell": "$(touch pwned);`id`|&" + base,
        "token-escape": base + ESC,
        "token-long": ("A" * 10240)[:-len(str(n))] + str(n),
    }.get(scenario, base)


class Ca:
    """The CA's state: accounts, orders, authorizations, challenges."""

    def __init__(self, scenario, pki, http01_port, log_path):
        self.scenario = scenario
        self.pki = pki
        self.http01_port = http01_port
        self.base = ""
        self.lock = threading.Lock()
        self.log = open(log_path, "a", buffering=1)
        self.directory_fetches = 0
        self.thumbprint = ""
        self.orders = {}
        self.authzs = {}
        self.next_id = 1

    def new_id(self):
        self.next_id += 1
        return self.next_id

    def url(self, path, downgrade=False):
        base = self.base.replace("https://", "http://") if downgrade else self.base
        return base + path

    def directory(self):
        with self.lock:
            self.directory_fetches += 1
            fetch = self.directory_fetches
        down = self.scenario == "directory-http" or (self.scenario == "directory-switch" and fetch > 1)
        return {k: self.url(p, down) for k, p in
                (("newNonce", "/nonce"), ("newAccount", "/acct/new"), ("newOrder", "/order/new"),
                 ("revokeCert", "/revoke"), ("keyChange", "/keychange"))} | {"meta": {"website": "https://hostile.test"}}

    def new_order(self, names):
        with self.lock:
            oid = self.new_id()
            if self.scenario == "order-identifier-mismatch":
                names = ["evil.example"] + names[1:]
            authz_ids = []
            for n in names:
                aid = self.new_id()
                ident = "evil.example" if self.scenario == "authz-identifier-mismatch" else n
                self.authzs[aid] = {"identifier": ident, "status": "pending", "token": hostile_token(self.scenario, aid),
                                    "challenge": "pending", "order": oid, "error": None}
                authz_ids.append(aid)
            self.orders[oid] = {"names": names, "authzs": authz_ids, "status": "pending", "cert": None}
            return oid

    def order_json(self, oid):
        o = self.orders[oid]
        down = self.scenario == "order-http"
        authz_urls = [self.url("/authz/%d" % a, down) for a in o["authzs"]]
        if self.scenario == "authz-excess":
            authz_urls += [self.url("/authz/%d" % o["authzs"][0]) for _ in range(900 - len(authz_urls))]
        if self.scenario == "many-authz":
            authz_urls = [self.url("/authz/%d" % (o["authzs"][0] + i)) for i in range(20000)]
        names = o["names"]
        if self.scenario == "poll-then-other-names" and any(
                self.authzs[a]["challenge"] != "pending" for a in o["authzs"]):
            names = ["evil.example", "victim.example"]  # what a resumed order must be checked against
        body = {"status": o["status"], "expires": "2099-01-01T00:00:00Z",
                "identifiers": [{"type": "dns", "value": n} for n in names],
                "authorizations": authz_urls, "finalize": self.url("/finalize/%d" % oid, down)}
        if o["cert"] is not None:
            body["certificate"] = self.url("/cert/%d" % oid, down)
        return body

    def authz_json(self, aid):
        if aid not in self.authzs and self.scenario == "many-authz":
            aid = min(self.authzs)  # every one of the 20,000 URLs answers, so a client that follows them all is fed
        a = self.authzs[aid]
        chall = {"type": "http-01", "url": self.url("/chall/%d" % aid), "token": a["token"], "status": a["challenge"]}
        if a["error"]:
            chall["error"] = a["error"]
        return {"status": a["status"], "expires": "2099-01-01T00:00:00Z",
                "identifier": {"type": "dns", "value": a["identifier"]}, "challenges": [chall]}

    def answer_challenge(self, aid):
        with self.lock:
            a = self.authzs[aid]
            if a["challenge"] != "pending":
                return
            a["challenge"] = "processing"
        if self.scenario.startswith("poll-"):
            return  # never decides
        threading.Thread(target=self.validate, args=(aid,), daemon=True).start()

    def validate(self, aid):
        a = self.authzs[aid]
        expected = a["token"] + "." + self.thumbprint
        ok, why = True, ""
        if self.http01_port:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.http01_port, timeout=5)
                conn.request("GET", "/.well-known/acme-challenge/" + a["token"], headers={"Host": a["identifier"]})
                resp = conn.getresponse()
                got = resp.read(4096).decode(errors="replace").strip()
                ok, why = resp.status == 200 and got == expected, "got %d %r" % (resp.status, got[:80])
            except (OSError, http.client.HTTPException, ValueError) as e:
                ok, why = False, "connection failed: %s" % e
        with self.lock:
            a["challenge"] = a["status"] = "valid" if ok else "invalid"
            if not ok:
                a["error"] = {"type": "urn:ietf:params:acme:error:unauthorized", "detail": why}
            o = self.orders[a["order"]]
            states = [self.authzs[x]["status"] for x in o["authzs"]]
            if all(s == "valid" for s in states):
                o["status"] = "ready"
            elif "invalid" in states:
                o["status"] = "invalid"

    def finalize(self, oid, csr_der):
        key, names = hostile_pki.csr_facts(csr_der)
        s = self.scenario
        if s == "cert-other-key":
            key = hostile_pki.new_key().public_key()
        if s == "cert-other-names":
            names = ["other.example", "evil.example"]
        window = hostile_pki.expired_window() if s == "cert-expired" else (None, None)
        leaf = self.pki.leaf(key, names, *window)
        chain = self.pki.chain_pem(leaf)
        if s == "chain-private-key":
            chain = chain + hostile_pki.key_pem(self.pki.issuer_key)
        if s == "chain-garbage":
            chain = os.urandom(4096)
        if s == "chain-broken":
            other = hostile_pki.Pki()
            chain = hostile_pki.pem(leaf) + hostile_pki.pem(other.issuer)
        with self.lock:
            self.orders[oid]["cert"] = chain
            self.orders[oid]["status"] = "valid"


def problem(kind, detail, **extra):
    return dict({"type": "urn:ietf:params:acme:error:" + kind, "detail": detail}, **extra)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hostile-ca/1"

    def log_message(self, fmt, *args):  # quiet; requests.log has the record
        pass

    @property
    def ca(self):
        return self.server.ca

    def record(self, status):
        self.ca.log.write("%s %s %d\n" % (self.command, self.path, status))

    def reply(self, status, body=b"", ctype="application/json", headers=()):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        if status >= 400 and ctype == "application/json":
            ctype = "application/problem+json"
        self.record(status)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Replay-Nonce", b64u(os.urandom(16)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def stream(self, total, chunk, pause, with_length):
        """Sends `total` bytes of JSON-looking filler, `chunk` at a time, `pause` s apart."""
        self.record(200)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if with_length:
            self.send_header("Content-Length", str(total))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        sent = 0
        try:
            while sent < total:
                n = min(chunk, total - sent)
                self.wfile.write((b"{" + b" " * (n - 1)) if sent == 0 else b" " * n)
                self.wfile.flush()
                sent += n
                if pause:
                    time.sleep(pause)
        except OSError:
            self.close_connection = True  # the client hung up, as it should

    def do_HEAD(self):
        self.reply(200 if self.path == "/nonce" else 404)

    def do_GET(self):
        if self.path == "/nonce":
            return self.reply(204)
        if self.path != "/dir":
            return self.reply(404, problem("malformed", "no such resource"))
        s = self.ca.scenario
        if s == "redirect-loop":
            return self.reply(302, b"", "text/plain", [("Location", self.ca.url("/dir"))])
        if s == "deep-json":
            return self.reply(200, "[" * 100000 + "]" * 100000)
        if s == "oversized-body":
            return self.stream(50 << 20, 64 << 10, 0, True)
        if s == "oversized-unbounded":
            return self.stream(50 << 20, 64 << 10, 0, False)
        if s == "trickle":
            return self.stream(600, 1, 1.0, True)
        self.reply(200, self.ca.directory())

    def jws(self):
        length = int(self.headers.get("Content-Length", "0"))
        if length > (1 << 20):
            raise ValueError("request too large")
        outer = json.loads(self.rfile.read(length))
        protected = json.loads(unb64u(outer["protected"]))
        payload = json.loads(unb64u(outer["payload"])) if outer.get("payload") else None
        return protected, payload

    def do_POST(self):
        try:
            protected, payload = self.jws()
        except (ValueError, KeyError) as e:
            return self.reply(400, problem("malformed", "bad JWS: %s" % e))
        parts = self.path.strip("/").split("/")
        try:
            self.route(parts, protected, payload)
        except (KeyError, ValueError, IndexError) as e:
            self.reply(404, problem("malformed", "no such resource: %s" % e))

    def route(self, parts, protected, payload):
        ca, s = self.ca, self.ca.scenario
        kind = parts[0]
        if kind == "acct":
            if "jwk" in protected:
                ca.thumbprint = jwk_thumbprint(protected["jwk"])
            return self.reply(201, {"status": "valid", "orders": ca.url("/acct/1/orders")},
                              headers=[("Location", ca.url("/acct/1"))])
        if kind == "order" and parts[1] == "new":
            return self.new_order(payload)
        poll = [("Retry-After", "0" if s == "poll-retry-after-zero" else str(THIRTY_YEARS))] if s.startswith("poll-") else []
        if kind == "order":
            return self.reply(200, ca.order_json(int(parts[1])), headers=poll)
        if kind == "authz":
            return self.reply(200, ca.authz_json(int(parts[1])), headers=poll)
        if kind == "chall":
            aid = int(parts[1])
            ca.answer_challenge(aid)
            chall = ca.authz_json(aid)["challenges"][0]
            return self.reply(200, chall, headers=poll + [("Link", '<%s>;rel="up"' % ca.url("/authz/%d" % aid))])
        if kind == "finalize":
            oid = int(parts[1])
            if ca.orders[oid]["status"] != "ready":
                return self.reply(403, problem("orderNotReady", "the order is not ready"))
            ca.finalize(oid, unb64u(payload["csr"]))
            return self.reply(200, ca.order_json(oid), headers=[("Location", ca.url("/order/%d" % oid))])
        if kind == "cert":
            return self.reply(200, ca.orders[int(parts[1])]["cert"], "application/pem-certificate-chain")
        self.reply(404, problem("malformed", "no such resource"))

    def new_order(self, payload):
        ca, s = self.ca, self.ca.scenario
        if s == "problem-escape":
            sub = [{"type": "urn:ietf:params:acme:error:rejectedIdentifier", "detail": "refused " + ESC,
                    "identifier": {"type": "dns", "value": "a" + ESC}}]
            return self.reply(400, problem("rejectedIdentifier", "name refused " + ESC, subproblems=sub))
        if s == "deep-json-problem":
            return self.reply(400, '{"type":"urn:ietf:params:acme:error:malformed","x":' + "[" * 100000 + "]" * 100000 + "}")
        if s == "retry-after-zero":
            return self.reply(503, problem("serverInternal", "busy"), headers=[("Retry-After", "0")])
        if s == "retry-after-30y":
            return self.reply(429, problem("rateLimited", "come back later"), headers=[("Retry-After", str(THIRTY_YEARS))])
        if s == "retry-after-30y-date":
            when = formatdate(time.time() + THIRTY_YEARS, usegmt=True)
            return self.reply(429, problem("rateLimited", "come back later"), headers=[("Retry-After", when)])
        names = [i["value"] for i in payload["identifiers"]]
        oid = ca.new_order(names)
        location = ca.url("/order/%d" % oid)
        if s == "location-escape":
            location += ESC + "\r\nX-Injected: " + ESC
        self.reply(201, ca.order_json(oid), headers=[("Location", location)])


def main():
    p = argparse.ArgumentParser(description="An adversarial ACME server for tests.")
    p.add_argument("--scenario", default="baseline")
    p.add_argument("--dir")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--http-01-port", type=int, default=0)
    p.add_argument("--list", action="store_true", help="print the scenarios and exit")
    a = p.parse_args()
    if a.list:
        for name, what in SCENARIOS.items():
            print("%-28s %s" % (name, what))
        return 0
    if a.scenario not in SCENARIOS or not a.dir:
        p.error("--dir and a known --scenario are required (see --list)")
    pki = hostile_pki.Pki()
    with open(os.path.join(a.dir, "trust.pem"), "wb") as f:
        f.write(hostile_pki.pem(pki.root))
    tls_path = os.path.join(a.dir, "server.pem")
    with open(tls_path, "wb") as f:
        f.write(hostile_pki.pem(pki.tls) + hostile_pki.key_pem(pki.tls_key))
    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tls_path)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.ca = Ca(a.scenario, pki, a.http_01_port, os.path.join(a.dir, "requests.log"))
    server.ca.base = "https://127.0.0.1:%d" % server.server_address[1]
    print("READY %s/dir" % server.ca.base, flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
