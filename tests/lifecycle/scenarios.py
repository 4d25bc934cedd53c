#!/usr/bin/env python3
"""The life of a job, through kubectl-flink's lifecycle commands, on real Flink (issue 18).

Every command runs as a user runs it: `kubectl-flink status|savepoint|upgrade|scale|delete`, which
call `kubectl` on PATH; here that is the stand-in (tests/lifecycle/kubectl), which runs the applied
JobManager and TaskManager containers as Flink processes and forwards the service proxy to the
JobManager's real REST port. Per Flink version (default 2.3.0 and 1.20.5):

  A  apply; status (exit 0, JSON); savepoint (the path alone on stdout, on disk);
     upgrade (savepoint mode) changing a job argument and the parallelism: the new job restored
       exactly that savepoint, runs with the new argument and parallelism, and the counter
       continues at the savepoint's counts + 1;
     upgrade --mode stateless: the counter starts at 1;
     upgrade with an unwritable savepoint directory: exit 1, nothing deleted, the same pods, the
       job still RUNNING;
     upgrade to a JobManager that never runs (an entry class that does not exist): the bounded
       wait ends with exit 1 and the commands that resume it, with the savepoint's path;
     delete: the pods go, status is exit 5.
  B  ZooKeeper HA, reactive mode, an older savepoint as job.fromSavepoint, the JobManager a
     Deployment on Flink 2.x and a Job on 1.x:
     scale --taskmanagers 2: the job's parallelism follows to 2, the same job, restored from a
       checkpoint (not a savepoint);
     upgrade --mode last-state with a new job argument: refused, nothing deleted (the new
       JobManager would run the job graph stored in HA);
     upgrade --mode last-state: the new JobManager recovers the latest checkpoint through HA (not
       the older savepoint on its command line), and the counter continues from it;
     upgrade (savepoint mode) under HA with a new argument: restored from exactly its savepoint,
       the new argument in effect, the counter continues;
     delete: the note says where ZooKeeper's HA data lives.

Environment: KUBECTL_FLINK (default target/debug/kubectl-flink), LIFECYCLE_FLINK_VERSIONS (default
"2.3.0 1.20.5"; under CI=true it may not leave one out), LIFECYCLE_RECORD=DIR (write the REST
answers, one JSON line each, into DIR/<version>.jsonl, for the unit tests' recorded responses), E2E_KEEP=1, and
KUBECTL_FLINK_E2E_CACHE / E2E_JVM_SPEED as for scripts/e2e-flink. Holds /tmp/kubectl-flink-e2e.lock
(fixed ports). Prints PASS/FAIL lines and "N passed, M failed"; exit 0 only if every check passed.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import run as e2e  # noqa: E402

DEFAULT_VERSIONS = "2.3.0 1.20.5"
VERSIONS = (os.environ.get("LIFECYCLE_FLINK_VERSIONS") or DEFAULT_VERSIONS).split()
KUBECTL = os.path.join(HERE, "kubectl")
KUBECTL_FLINK = os.environ.get("KUBECTL_FLINK") or os.path.join(ROOT, "target", "debug", "kubectl-flink")
R = e2e.R
WAIT = "120"        # --timeout of the commands that should succeed


class Version:
    def __init__(self, version, work):
        self.v = version
        self.run = e2e.VersionRun(version, work)
        self.work = self.run.work
        self.state_dir = os.path.join(self.work, "cluster")
        os.makedirs(self.run.logs)
        os.makedirs(self.run.state)

    def label(self, what):
        return "[lifecycle %s] %s" % (self.v, what)

    # -- running commands ------------------------------------------------------------------------
    def flink(self, *args, timeout=400):
        """(exit code, stdout, stderr) of `kubectl-flink ARGS`, kubectl being the stand-in."""
        env = dict(os.environ, PATH=HERE + os.pathsep + os.environ["PATH"])
        t = time.monotonic()
        r = subprocess.run([KUBECTL_FLINK] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=env, timeout=timeout)
        out, err = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
        with open(os.path.join(self.run.logs, "commands.log"), "a") as f:
            f.write("$ kubectl-flink %s\nexit %d after %.1fs\n--- stdout\n%s--- stderr\n%s\n"
                    % (" ".join(args), r.returncode, time.monotonic() - t, out, err))
        return r.returncode, out, err

    def write_spec(self, name, spec):
        path = os.path.join(self.work, "%s.json" % name)
        with open(path, "w") as f:
            json.dump(spec, f, indent=2)
        return path

    def status(self, spec_path):
        rc, out, err = self.flink("status", "-f", spec_path, "-o", "json", "--timeout", "30")
        try:
            return rc, json.loads(out) if out else None, err
        except ValueError:
            return rc, None, err + out

    def wait_running(self, spec_path, seconds=120):
        def running():
            rc, report, _ = self.status(spec_path)
            return report if rc == 0 else None
        return e2e.wait_for("status exit 0 (job RUNNING)", running, seconds, interval=1)

    def pods(self, name):
        r = subprocess.run([KUBECTL, "get", "pods", "--selector",
                            "app.kubernetes.io/name=flink,app.kubernetes.io/instance=" + name, "-o", "json",
                            "--namespace", "default"], stdout=subprocess.PIPE, check=True)
        return json.loads(r.stdout)["items"]

    def tm_logs(self, name):
        """The container logs of the TaskManager pods that run now."""
        return [os.path.join(self.state_dir, "pods", "default_%s" % p["metadata"]["name"], "container.log")
                for p in self.pods(name) if p["metadata"]["labels"].get("app.kubernetes.io/component") == "taskmanager"]

    def rest(self, path):
        r = subprocess.run([KUBECTL, "get", "--raw",
                            "/api/v1/namespaces/default/services/http:%s:rest/proxy/%s" % (self.rest_svc, path),
                            "--namespace", "default"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise ValueError(r.stderr.decode(errors="replace"))
        return json.loads(r.stdout)


    def wait_checkpoints(self, jid, after_id, seconds=60):
        def newer():
            c = self.rest("jobs/%s/checkpoints" % jid)["latest"].get("completed") or {}
            return c if c.get("id", -1) > after_id and not c.get("is_savepoint") else None
        return e2e.wait_for("a checkpoint after %s" % after_id, newer, seconds, interval=0.5)

    # -- the counter ------------------------------------------------------------------------------
    @staticmethod
    def snapshots(paths):
        """{checkpoint id: {key: count}}, merged over every subtask's snapshot line."""
        merged = {}
        for path in paths:
            for line in e2e.read_lines(path):
                m = e2e.RE_SNAP.search(line)
                if m:
                    counts = merged.setdefault(int(m.group(1)), {})
                    for part in filter(None, m.group(2).split(",")):
                        k, n = part.split(":")
                        counts[int(k)] = int(n)
        return merged

    def first_counts(self, paths):
        def every_key():
            first = {}
            for path in paths:
                for seg in e2e.segments(path):
                    for k, n in e2e.first_counts(seg[2]).items():
                        first.setdefault(k, n)
            return first if len(first) == e2e.KEYS else None
        return e2e.wait_for("the counter to print every key", every_key, 30, interval=0.5)

    # -- scenario A ---------------------------------------------------------------------------------
    def scenario_a(self):
        name = "life"
        self.rest_svc = name + "-jobmanager-rest"
        spec = self.run.spec(name, "a", slots=2)
        path = self.write_spec(name, spec)
        L = self.label
        rc, out, err = self.flink("apply", "-f", path, "--allow-savepoint-without-ha")
        R.require(L("apply -f SPEC"), rc == 0, err[-600:])
        report = self.wait_running(path)
        R.check(L("status -o json: job RUNNING, HA none, 1/1 TaskManagers, the Job and Deployment listed"),
                report["job"]["state"] == "RUNNING" and report["ha"] == "none"
                and report["taskManagers"] == {"ready": 1, "desired": 1}
                and {o["kind"] for o in report["objects"]} >= {"Job", "Deployment", "Service"}, report)
        jid = report["job"]["id"]
        self.wait_checkpoints(jid, 0)
        rc, text, _ = self.flink("status", "-f", path)
        R.check(L("status (text): exit 0, a line for the job"), rc == 0 and ("job           %s RUNNING" % jid) in text, text)

        rc, out, err = self.flink("savepoint", "-f", path, "--timeout", WAIT)
        sp = out.strip()
        R.check(L("savepoint: exit 0, stdout is the path alone, written under savepointDir"),
                rc == 0 and out.count("\n") == 1 and sp.startswith("file:")
                and os.path.isfile(os.path.join(sp[len("file:"):], "_metadata"))
                and sp[len("file:"):].startswith(spec["spec"]["savepointDir"][len("file://"):]),
                "exit %d, stdout %r, stderr %s" % (rc, out, err[-400:]))
        R.check(L("savepoint: progress on stderr"), "triggering a savepoint of job %s" % jid in err, err[-400:])
        self.first_savepoint = sp

        # upgrade, savepoint mode: a new argument and parallelism 2
        old_logs = self.tm_logs(name)
        rc, out, err = self.flink("upgrade", "-f", path, "--set", "spec.job.args[5]=b", "--set",
                                  "spec.job.parallelism=2", "--allow-savepoint-without-ha", "--timeout", WAIT)
        upgraded = out.strip()
        R.require(L("upgrade (savepoint mode): exit 0, the savepoint's path on stdout"),
                  rc == 0 and upgraded.startswith("file:") and upgraded != sp, "exit %d %r %s" % (rc, out, err[-900:]))
        report = self.wait_running(path)
        jid = report["job"]["id"]
        restored = self.rest("jobs/%s/checkpoints" % jid)["latest"]["restored"]
        R.check(L("the new job restored exactly the upgrade's savepoint"),
                restored and restored["is_savepoint"] and restored["external_path"] == upgraded, restored)
        detail = self.rest("jobs/%s" % jid)
        R.check(L("the new argument (--tag b) and parallelism 2 are in effect"),
                detail["name"].endswith("tag=b") and max(v["parallelism"] for v in detail["vertices"]) == 2,
                "%s, %s" % (detail["name"], [v["parallelism"] for v in detail["vertices"]]))
        want = self.snapshots(old_logs).get(restored["id"])
        first = self.first_counts(self.tm_logs(name))
        R.check(L("the counter continues at the savepoint's counts + 1"),
                want is not None and first == {k: n + 1 for k, n in want.items()},
                "savepoint %s counts %s, first counts after %s" % (restored["id"], want, first))

        # upgrade, stateless
        rc, out, err = self.flink("upgrade", "-f", path, "--mode", "stateless", "--timeout", WAIT)
        R.require(L("upgrade --mode stateless: exit 0, nothing on stdout"), rc == 0 and out == "",
                  "exit %d %r %s" % (rc, out, err[-900:]))
        report = self.wait_running(path)
        restored = self.rest("jobs/%s/checkpoints" % report["job"]["id"])["latest"].get("restored")
        first = self.first_counts(self.tm_logs(name))
        R.check(L("stateless: nothing restored, the counter starts at 1"),
                restored is None and first == {k: 1 for k in range(e2e.KEYS)}, "restored %s, first %s" % (restored, first))

        # failure: an unwritable savepoint directory
        pods_before = sorted(p["metadata"]["name"] for p in self.pods(name))
        rc, out, err = self.flink("upgrade", "-f", path, "--set", "spec.savepointDir=file:///proc/kubectl-flink-none",
                                  "--allow-savepoint-without-ha", "--timeout", "60")
        R.check(L("upgrade into an unwritable savepoint dir: exit 1, empty stdout, 'nothing was deleted'"),
                rc == 1 and out == "" and "nothing was deleted" in err, "exit %d %r %s" % (rc, out, err[-900:]))
        rc, report, _ = self.status(path)
        R.check(L("... and the cluster is untouched: the same pods, the job RUNNING"),
                rc == 0 and sorted(p["metadata"]["name"] for p in self.pods(name)) == pods_before,
                "status exit %d, pods %s → %s" % (rc, pods_before, [p["metadata"]["name"] for p in self.pods(name)]))

        # failure: a JobManager that never runs the job
        rc, out, err = self.flink("upgrade", "-f", path, "--set", "spec.job.entryClass=e2e.NoSuchClass",
                                  "--allow-savepoint-without-ha", "--timeout", "30")
        R.check(L("upgrade to a JobManager that never runs: exit 1 after the bounded wait"),
                rc == 1 and out == "" and "timed out after 30 s waiting for the job to run again" in err,
                "exit %d %r %s" % (rc, out, err[-900:]))
        resume = [l.strip() for l in err.splitlines() if l.strip().startswith("kubectl flink ")]
        saved = [w for l in resume for w in l.split() if w.startswith("spec.job.fromSavepoint=file:")]
        R.check(L("... and prints the commands that resume it, with the savepoint's path"),
                len(resume) == 2 and resume[0].startswith("kubectl flink delete life") and saved
                and os.path.isfile(os.path.join(saved[0].split("=", 1)[1][len("file:"):], "_metadata")), resume)

        rc, out, err = self.flink("delete", "-f", path, "--timeout", WAIT)
        R.check(L("delete: exit 0, the pods are gone"), rc == 0 and not self.pods(name), "exit %d %s" % (rc, err[-600:]))
        rc, _, err = self.status(path)
        R.check(L("status after delete: exit 5"), rc == 5, "exit %d %s" % (rc, err[-300:]))

    # -- scenario B ---------------------------------------------------------------------------------
    def scenario_b(self):
        name = "reactive"
        self.rest_svc = name + "-jobmanager-rest"
        L = self.label
        zk = self.run.start_zookeeper()
        try:
            conf = {"scheduler-mode": "reactive", "high-availability.zookeeper.client.session-timeout": "6000"}
            if e2e.vtuple(self.v) >= (2, 0):
                # Flink 2's adaptive scheduler waits up to a minute for resources to settle before
                # it rescales a running job; a second is enough here, where they come at once
                conf.update({"jobmanager.adaptive-scheduler.executing.resource-stabilization-timeout": "1s",
                             "jobmanager.adaptive-scheduler.executing.cooldown-after-rescaling": "1s"})
            # Flink 2.x runs this cluster's JobManager as a Deployment, 1.x as a Job: both kinds
            # go through scale, last-state and savepoint upgrades under HA
            jm_kind = "Deployment" if e2e.vtuple(self.v) >= (2, 0) else None
            spec = self.run.spec(name, "r", ha=True, from_savepoint=self.first_savepoint,
                                 entry_class="e2e.CounterJobExplicit", extra_conf=conf, jm_kind=jm_kind)
            path = self.write_spec(name, spec)
            rc, out, err = self.flink("apply", "-f", path)
            R.require(L("apply a reactive cluster with ZooKeeper HA (JobManager: %s)" % (jm_kind or "Job")),
                      rc == 0, err[-600:])
            report = self.wait_running(path)
            jid = report["job"]["id"]
            R.check(L("status: HA zookeeper"), report["ha"] == "zookeeper", report["ha"])
            workloads = [o["kind"] + "/" + o["name"] for o in report["objects"]]
            R.check(L("status: the JobManager is a %s" % (jm_kind or "Job")),
                    "%s/%s-jobmanager" % (jm_kind or "Job", name) in workloads, workloads)
            before = self.wait_checkpoints(jid, 0)

            rc, out, err = self.flink("scale", "-f", path, "--taskmanagers", "2", "--timeout", WAIT)
            R.check(L("scale --taskmanagers 2: exit 0, and the spec's old count named"),
                    rc == 0 and "spec.taskManager.replicas" in err, "exit %d %s" % (rc, err[-900:]))
            detail = self.rest("jobs/%s" % jid)
            restored = self.rest("jobs/%s/checkpoints" % jid)["latest"].get("restored") or {}
            R.check(L("the same job now runs at parallelism 2, rescaled from a checkpoint, not a savepoint"),
                    detail["state"] == "RUNNING" and max(v["parallelism"] for v in detail["vertices"]) == 2
                    and restored.get("is_savepoint") is False and restored.get("id", -1) >= before["id"],
                    "%s %s, restored %s" % (detail["state"], [v["parallelism"] for v in detail["vertices"]], restored))

            pods_before = sorted(p["metadata"]["name"] for p in self.pods(name))
            rc, out, err = self.flink("upgrade", "-f", path, "--mode", "last-state", "--set", "spec.job.args[5]=x",
                                      "--timeout", WAIT)
            R.check(L("last-state with a new job argument: refused (HA keeps the old job graph), nothing deleted"),
                    rc == 1 and "would change the job itself" in err
                    and sorted(p["metadata"]["name"] for p in self.pods(name)) == pods_before,
                    "exit %d %s" % (rc, err[-600:]))

            latest = self.wait_checkpoints(jid, restored.get("id", 0))
            old_logs = self.tm_logs(name)
            rc, out, err = self.flink("upgrade", "-f", path, "--mode", "last-state", "--timeout", WAIT)
            R.require(L("upgrade --mode last-state: exit 0"), rc == 0, "exit %d %s" % (rc, err[-900:]))
            report = self.wait_running(path)
            restored = self.rest("jobs/%s/checkpoints" % report["job"]["id"])["latest"].get("restored") or {}
            R.check(L("last-state: restored the latest checkpoint through HA, not the older savepoint"),
                    restored.get("is_savepoint") is False and restored.get("id", -1) >= latest["id"]
                    and restored.get("external_path") != self.first_savepoint, "restored %s, latest %s" % (restored, latest))
            want = self.snapshots(old_logs).get(restored.get("id"))
            first = self.first_counts(self.tm_logs(name))
            R.check(L("the counter continues at that checkpoint's counts + 1"),
                    want is not None and first == {k: n + 1 for k, n in want.items()},
                    "checkpoint %s counts %s, first %s" % (restored.get("id"), want, first))

            # the default upgrade under HA: Flink removes the stopped job's HA data before its
            # JobManager exits, so the new one runs the new job graph from the savepoint
            old_logs = self.tm_logs(name)
            rc, out, err = self.flink("upgrade", "-f", path, "--set", "spec.job.args[5]=d", "--timeout", WAIT)
            sp = out.strip()
            R.require(L("upgrade (savepoint mode) under ZooKeeper HA: exit 0, the path on stdout"),
                      rc == 0 and sp.startswith("file:"), "exit %d %r %s" % (rc, out, err[-900:]))
            report = self.wait_running(path)
            jid = report["job"]["id"]
            restored = self.rest("jobs/%s/checkpoints" % jid)["latest"].get("restored") or {}
            detail = self.rest("jobs/%s" % jid)
            R.check(L("... restored exactly that savepoint, with the new argument (HA data of the old job gone)"),
                    restored.get("external_path") == sp and detail["name"].endswith("tag=d"),
                    "restored %s, job %s" % (restored, detail["name"]))
            want = self.snapshots(old_logs).get(restored.get("id"))
            first = self.first_counts(self.tm_logs(name))
            R.check(L("... and the counter continues at the savepoint's counts + 1"),
                    want is not None and first == {k: n + 1 for k, n in want.items()},
                    "savepoint %s counts %s, first %s" % (restored.get("id"), want, first))

            rc, out, err = self.flink("delete", "-f", path, "--timeout", WAIT)
            R.check(L("delete: exit 0, pods gone, and where ZooKeeper's HA data lives"),
                    rc == 0 and not self.pods(name) and "zkCli.sh -server e2e-zookeeper:2181 deleteall /flink/reactive" in err,
                    "exit %d %s" % (rc, err[-900:]))
        finally:
            zk.stop()

    def go(self):
        flink_cache = os.path.join(e2e.CACHE, "flink-%s" % self.v)
        installed = os.path.isfile(os.path.join(flink_cache, ".installed"))
        R.require(self.label("Flink installed in the cache"), installed,
                  flink_cache if installed else "%s missing: run scripts/e2e-flink" % flink_cache)
        jar, _ = e2e.build_job_jar(self.v, flink_cache)
        self.run.flink_cache, self.run.jar = flink_cache, jar
        os.environ.update(KUBECTL_STANDIN_STATE=self.state_dir, KUBECTL_STANDIN_FLINK_VERSION=self.v,
                          KUBECTL_STANDIN_JOB_JAR=jar)
        if os.environ.get("LIFECYCLE_RECORD"):
            os.makedirs(os.environ["LIFECYCLE_RECORD"], exist_ok=True)
            os.environ["KUBECTL_STANDIN_RECORD"] = os.path.join(os.environ["LIFECYCLE_RECORD"], "%s.jsonl" % self.v)
        sys.path.insert(0, HERE)
        for scenario in (self.scenario_a, self.scenario_b):
            t = time.monotonic()
            try:
                scenario()
            finally:
                stop = subprocess.run([KUBECTL, "--standin-stop-all"], stderr=subprocess.PIPE, timeout=120)
                if stop.returncode != 0:
                    print("     stop-all: %s" % stop.stderr.decode(errors="replace"), flush=True)
                e2e.info("%s %s: %.1fs" % (self.v, scenario.__name__, time.monotonic() - t))


def gist(body):
    """What an answer says that the commands act on: job states, a savepoint's outcome, what a
    job restored, how many TaskManagers, the parallelism."""
    try:
        doc = json.loads(body)
    except ValueError:
        return body[:80]
    if not isinstance(doc, dict):
        return type(doc).__name__
    restored = (doc.get("latest") or {}).get("restored") if isinstance(doc.get("latest"), dict) else None
    op = doc.get("operation") or {}
    return json.dumps([sorted(j.get("state", "") for j in doc.get("jobs", [])),
                       (doc.get("status") or {}).get("id"), "failure-cause" in op, "location" in op,
                       restored and restored.get("is_savepoint"), len(doc.get("taskmanagers", [])),
                       sorted({v.get("parallelism") for v in doc.get("vertices", [])}), doc.get("state")])


def compact_recording(path):
    """Keeps the first two answers of each kind (method, path with its ids as :jobid/:triggerid,
    status, and what the answer says, see gist): the polls repeat."""
    import re
    seen, kept = {}, []
    for line in e2e.read_lines(path):
        rec = json.loads(line)
        template = re.sub(r"/savepoints/[0-9a-f-]{8,}", "/savepoints/:triggerid", rec["path"])
        template = re.sub(r"/[0-9a-f]{32}", "/:jobid", template)
        body = rec["body"]
        key = (rec["method"], template, rec["status"], gist(body))
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= 2:
            kept.append(json.dumps(dict(rec, template=template), sort_keys=True))
    with open(path, "w") as f:
        f.write("\n".join(kept) + "\n")


def main():
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, e2e._on_signal)
    if os.environ.get("CI") == "true":
        left_out = [v for v in DEFAULT_VERSIONS.split() if v not in VERSIONS]
        if left_out:
            print("lifecycle: CI=true: LIFECYCLE_FLINK_VERSIONS leaves out %s" % " ".join(left_out))
            print("0 passed, 1 failed")
            sys.exit(1)
    t0 = time.monotonic()
    work = tempfile.mkdtemp(prefix="kubectl-flink-lifecycle-")
    print("lifecycle: Flink %s, kubectl-flink %s, work dir %s" % (" ".join(VERSIONS), KUBECTL_FLINK, work), flush=True)
    lock = e2e.hold_run_lock("lifecycle")
    code = 0
    try:
        for version in VERSIONS:
            print("=== Flink %s" % version, flush=True)
            v = Version(version, work)
            try:
                e2e.wait_ports_free(e2e.FLINK_PORTS)
                v.go()
            except e2e.PhaseFailed as err:
                R.check(v.label("scenarios completed"), False, str(err))
            except (OSError, ValueError, KeyError, TypeError, subprocess.SubprocessError) as err:
                R.check(v.label("scenarios completed"), False, "%s: %s" % (type(err).__name__, err))
            finally:
                e2e.Proc.stop_all()
                recording = os.environ.get("KUBECTL_STANDIN_RECORD")
                if recording and os.path.isfile(recording):
                    compact_recording(recording)
    except e2e.Interrupted as err:
        R.check("[lifecycle] completed without interruption", False, "signal %d" % err.args[0])
        code = 128 + err.args[0]
    finally:
        lock.close()
    print("lifecycle: %.1f s" % (time.monotonic() - t0))
    R.finish(work, "commands.log, pod logs under */cluster/pods", code)


if __name__ == "__main__":
    main()
