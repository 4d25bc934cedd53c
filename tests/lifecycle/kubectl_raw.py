#!/usr/bin/env python3
"""Differential test: what real kubectl does with the service-proxy calls the lifecycle commands
make, against what the stand-in (tests/lifecycle/standin.py) models. No Flink, no cluster: real
kubectl talks to a small fake API server on 127.0.0.1 that records each request and answers as
Flink would through the API server's proxy.

Checked, each against real kubectl:
  - `get --raw PATH` sends GET PATH and prints the body as it came;
  - `create --raw PATH -f -` sends POST PATH with stdin as the body, unchanged, and without a
    Content-Type (so the stand-in forwards POSTs to Flink without one, and the lifecycle
    scenarios prove Flink takes them so);
  - the error line kubectl prints for each status Flink or the proxy may answer (404, 400, 500,
    503; JSON, text and Status bodies) equals the stand-in's `server_error`;
  - `config view --minify -o jsonpath={..namespace}` prints the context's namespace.
Prints PASS/FAIL lines and "N passed, M failed"; exit 0 only if every check passed.
"""
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import standin  # noqa: E402

PROXY = "/api/v1/namespaces/ns/services/http:svc:rest/proxy"
STATUS = {"kind": "Status", "apiVersion": "v1", "status": "Failure"}
# path → (status, content type, body): what Flink (or the API server's proxy) answers
ANSWERS = {
    "/ok": (200, "application/json", b'{"jobs": [{"jid": "a", "state": "RUNNING"}]}'),
    "/missing": (404, "application/json", b'{"errors": ["Not found: /missing"]}'),
    "/bad": (400, "application/json", b'{"errors": ["Request did not match expected format"]}'),
    "/boom": (500, "application/json", b'{"errors": ["Internal server error."]}'),
    "/text": (500, "text/plain; charset=utf-8", b"plain failure"),
    "/down": (503, "application/json", json.dumps(dict(
        STATUS, message='no endpoints available for service "svc"', reason="ServiceUnavailable", code=503)).encode()),
}
passed = failed = 0
requests = []


def check(label, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("PASS %s" % label, flush=True)
    else:
        failed += 1
        print("FAIL %s: %s" % (label, detail), flush=True)


class FakeApiServer(http.server.BaseHTTPRequestHandler):
    def log_message(self, *_):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding") == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def answer(self):
        body = self.read_body()
        requests.append((self.command, self.path, body, self.headers.get("Content-Type")))
        code, ctype, out = ANSWERS.get(self.path[len(PROXY):], (200, "application/json", b'{"gitVersion": "v1.32.0"}'))
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = answer


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeApiServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    work = tempfile.mkdtemp(prefix="kubectl-raw-")
    config = os.path.join(work, "kubeconfig")
    with open(config, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "Config", "current-context": "x",
                   "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:%d" % server.server_port}}],
                   "users": [{"name": "u", "user": {}}],
                   "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u", "namespace": "team-a"}}]}, f)

    def kubectl(*args, stdin=b""):
        r = subprocess.run(["kubectl", "--kubeconfig", config] + list(args), input=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        return r.returncode, r.stdout, r.stderr.decode(errors="replace").strip()

    rc, out, err = kubectl("get", "--raw", PROXY + "/ok", "--namespace", "ns")
    get = [r for r in requests if r[1] == PROXY + "/ok"]
    check("get --raw: GET of the proxy path, the body printed as it came",
          rc == 0 and out == ANSWERS["/ok"][2] and get and get[-1][0] == "GET", (rc, out, err, get))

    body = b'{"drain": false, "targetDirectory": "s3://b/savepoints"}'
    rc, out, err = kubectl("create", "--raw", PROXY + "/ok", "-f", "-", "--namespace", "ns", stdin=body)
    post = [r for r in requests if r[0] == "POST"]
    check("create --raw -f -: POST of the proxy path, stdin as the body, unchanged",
          rc == 0 and out == ANSWERS["/ok"][2] and post and post[-1][1:3] == (PROXY + "/ok", body), (rc, err, post))
    check("create --raw -f -: no Content-Type (the stand-in forwards POSTs to Flink without one too)",
          post and post[-1][3] is None, post and post[-1][3])

    for path, (code, ctype, answer) in sorted(ANSWERS.items()):
        if code < 300:
            continue
        rc, out, err = kubectl("get", "--raw", PROXY + path, "--namespace", "ns")
        modelled = standin_error(code, "GET", answer, ctype)
        check("HTTP %d (%s): kubectl exits 1 with the line the stand-in prints" % (code, ctype.split(";")[0]),
              rc == 1 and out == b"" and err == modelled, "kubectl: exit %d %r; stand-in: %r" % (rc, err, modelled))

    rc, out, err = kubectl("config", "view", "--minify", "-o", "jsonpath={..namespace}")
    check("config view --minify -o jsonpath={..namespace}: the context's namespace",
          rc == 0 and out == b"team-a", (rc, out, err))
    server.shutdown()
    print("%d passed, %d failed" % (passed, failed), flush=True)
    sys.exit(1 if failed else 0)


def standin_error(code, method, body, ctype):
    """The stand-in's line for a proxied error: an API-server Status body is kubectl's own
    `Error from server (Reason): message`, anything else goes through `server_error`."""
    if "json" in ctype:
        doc = json.loads(body)
        if doc.get("kind") == "Status":
            return "Error from server (%s): %s" % (doc["reason"], doc["message"])
    return standin.server_error(code, method, body, ctype)


if __name__ == "__main__":
    main()
