#!/usr/bin/env python3
"""Self-test of the kubectl stand-in (tests/lifecycle/kubectl) on real Flink, before any lifecycle
command relies on it: every contract call it models, made by hand, against a FlinkJobCluster that
`kubectl-flink render` wrote (the counter test job, file:// checkpoint and savepoint dirs in a
temporary work dir, parallelism 1, 1 slot).

  render | kubectl apply -f -          created lines; applied again: unchanged, no new pods
  get ... -o json                      the JobManager pod Ready, Job/Deployment status, labels
  get --raw .../proxy/jobs/overview    the job RUNNING; a missing path is kubectl's NotFound
  create --raw .../savepoints -f -     a savepoint, polled until COMPLETED, written under savepointDir
  scale deployments.apps/... 2         two TaskManager pods, each on its own pod IP, both registered
  delete (the contract's two forms)    deletionTimestamp, then the pods and their processes are gone;
                                       the proxy answers ServiceUnavailable, then NotFound; ports free
  an unknown call                      exit 1, `kubectl stand-in: unsupported: ARGV`

Environment: KUBECTL_FLINK (default: target/debug/kubectl-flink, under CARGO_TARGET_DIR if set),
STANDIN_FLINK_VERSION (default 2.3.0, installed in the e2e cache), E2E_KEEP=1 keeps the work dir,
KUBECTL_FLINK_E2E_CACHE / E2E_JVM_SPEED / E2E_TIMEOUT as for scripts/e2e-flink. Holds
/tmp/kubectl-flink-e2e.lock while Flink runs (fixed ports). Prints PASS/FAIL lines and
"N passed, M failed"; exit 0 only if every check passed. Every pod is stopped at the end, also on
failure or Ctrl-C.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import run as e2e  # noqa: E402

VERSION = os.environ.get("STANDIN_FLINK_VERSION") or "2.3.0"
KUBECTL = os.path.join(HERE, "kubectl")
KUBECTL_FLINK = os.environ.get("KUBECTL_FLINK") or os.path.join(
    os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target"), "debug", "kubectl-flink")
NAME, NS = "lc", "default"
SEL = "app.kubernetes.io/name=flink,app.kubernetes.io/instance=%s" % NAME
ALL_KINDS = "jobs.batch,deployments.apps,pods,services,configmaps,horizontalpodautoscalers.autoscaling"
DELETE_ALL = ("jobs.batch,deployments.apps,services,configmaps,horizontalpodautoscalers.autoscaling,"
              "ingresses.networking.k8s.io,serviceaccounts,roles.rbac.authorization.k8s.io,"
              "rolebindings.rbac.authorization.k8s.io")
PROXY = "/api/v1/namespaces/%s/services/http:%s-jobmanager-rest:rest/proxy" % (NS, NAME)
R = e2e.R
L = lambda what: "[standin %s] %s" % (VERSION, what)   # noqa: E731


def kubectl(*args, stdin=None):
    """(exit code, stdout, stderr) of one stand-in call, with the contract's trailing --namespace."""
    r = subprocess.run([KUBECTL] + list(args) + ["--namespace", NS], input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def get_list(kinds=ALL_KINDS):
    rc, out, err = kubectl("get", kinds, "--selector", SEL, "-o", "json")
    if rc != 0:
        raise ValueError("kubectl get failed: %s" % err.strip())
    doc = json.loads(out)
    if doc.get("kind") != "List" or doc.get("apiVersion") != "v1":
        raise ValueError("not a v1 List: %s" % out[:200])
    return doc["items"]


def rest(path, body=None):
    """GET (or POST `body`) through the service proxy; the parsed JSON, or ValueError."""
    if body is None:
        rc, out, err = kubectl("get", "--raw", PROXY + path)
    else:
        rc, out, err = kubectl("create", "--raw", PROXY + path, "-f", "-", stdin=json.dumps(body).encode())
    if rc != 0:
        raise ValueError(err.strip())
    return json.loads(out)


def ready(pod):
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))


def pods(items, component=None):
    return [i for i in items if i["kind"] == "Pod"
            and (component is None or i["metadata"]["labels"].get("app.kubernetes.io/component") == component)]


def one(items, kind):
    found = [i for i in items if i["kind"] == kind]
    return found[0] if len(found) == 1 else None


def bindable(ip, port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((ip, port))
            return True
        except OSError:
            return False


def test(work, state):
    spec = e2e.VersionRun(VERSION, work).spec(NAME, "standin")
    savepoint_dir = spec["spec"]["savepointDir"][len("file://"):]
    spec_path = os.path.join(work, "spec.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f, indent=2)
    r = subprocess.run([KUBECTL_FLINK, "render", "-f", spec_path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    R.require(L("kubectl-flink render (YAML) exits 0"), r.returncode == 0, r.stderr.decode(errors="replace")[:400])
    yaml_text = r.stdout
    with open(os.path.join(work, "rendered.yaml"), "wb") as f:
        f.write(yaml_text)

    # -- apply ------------------------------------------------------------------------------
    want = ["job.batch/lc-jobmanager", "service/lc-jobmanager", "service/lc-jobmanager-rest",
            "deployment.apps/lc-taskmanager"]
    t = time.monotonic()
    rc, out, err = kubectl("apply", "-f", "-", stdin=yaml_text)
    R.require(L("apply -f - prints kubectl's created lines"),
              rc == 0 and out.splitlines() == ["%s created" % w for w in want], "exit %d %r %s" % (rc, out, err))
    items = get_list()
    first_pods = sorted(p["metadata"]["name"] for p in pods(items))
    R.check(L("apply starts one JobManager and one TaskManager pod"),
            len(pods(items, "jobmanager")) == 1 and len(pods(items, "taskmanager")) == 1, first_pods)
    rc, out, err = kubectl("apply", "-f", "-", stdin=yaml_text)
    R.check(L("the same objects applied again: unchanged, the same pods"),
            rc == 0 and out.splitlines() == ["%s unchanged" % w for w in want]
            and sorted(p["metadata"]["name"] for p in pods(get_list())) == first_pods,
            "exit %d %r %s" % (rc, out, err))

    def jm_ready():
        its = get_list()
        jm = pods(its, "jobmanager")
        return its if len(jm) == 1 and ready(jm[0]) else None
    items = e2e.wait_for("the JobManager pod Ready (its readiness probe: GET /config)", jm_ready, 120, interval=1)
    e2e.info("JobManager pod Ready after %.1fs" % (time.monotonic() - t))
    job, dep = one(items, "Job"), one(items, "Deployment")
    rendered = {(o["kind"], o["metadata"]["name"]): o for o in
                json.loads(subprocess.run([KUBECTL_FLINK, "render", "-f", spec_path, "-o", "json"],
                                          stdout=subprocess.PIPE, check=True).stdout)["items"]}
    jm_pod, tm_pod = pods(items, "jobmanager")[0], pods(items, "taskmanager")[0]
    for pod, owner in ((jm_pod, ("Job", "lc-jobmanager")), (tm_pod, ("Deployment", "lc-taskmanager"))):
        tlabels = rendered[owner]["spec"]["template"]["metadata"]["labels"]
        R.check(L("%s pod %s: the template's labels, phase Running, its own pod IP" % (owner[0], pod["metadata"]["name"])),
                all(pod["metadata"]["labels"].get(k) == v for k, v in tlabels.items())
                and pod["status"]["phase"] == "Running" and pod["status"]["podIP"] != "127.0.0.1"
                and pod["metadata"]["name"].startswith(owner[1] + "-"),
                "labels %s, phase %s, IP %s" % (pod["metadata"]["labels"], pod["status"]["phase"],
                                                pod["status"].get("podIP")))
    R.check(L("Job status: active 1; Deployment status: 1 ready replica; objects carry uid, creationTimestamp"),
            job and job["status"].get("active") == 1 and dep and dep["status"].get("readyReplicas") == 1
            and all(i["metadata"].get("uid") and i["metadata"].get("creationTimestamp") for i in items),
            "Job %s, Deployment %s" % (job and job.get("status"), dep and dep.get("status")))
    R.check(L("get lists the Services, and no private stand-in field"),
            sorted(i["metadata"]["name"] for i in items if i["kind"] == "Service")
            == ["lc-jobmanager", "lc-jobmanager-rest"] and not any("_standin" in i for i in items))

    # -- REST through the service proxy ----------------------------------------------------
    def running():
        for j in rest("/jobs/overview").get("jobs", []):
            if j.get("state") == "RUNNING":
                return j["jid"]
        return None
    jid = e2e.wait_for("the job RUNNING (get --raw .../proxy/jobs/overview)", running, 90, interval=1)
    R.check(L("get --raw .../proxy/jobs/overview: the job RUNNING"), True, jid)
    rc, out, err = kubectl("get", "--raw", PROXY + "/no-such-path")
    R.check(L("get --raw of a path Flink does not know: exit 1, kubectl's NotFound line, empty stdout"),
            rc == 1 and out == "" and err.strip() == "Error from server (NotFound): the server could not find "
            "the requested resource", "exit %d, stderr %r" % (rc, err))
    rc, out, err = kubectl("rollout", "status", "deployment/lc-taskmanager")
    R.check(L("a call outside the contract: exit 1, `kubectl stand-in: unsupported: ARGV`"),
            rc == 1 and err.startswith("kubectl stand-in: unsupported: rollout status deployment/lc-taskmanager"),
            "exit %d, stderr %r" % (rc, err))

    # -- savepoint ---------------------------------------------------------------------------
    t = time.monotonic()
    trigger = rest("/jobs/%s/savepoints" % jid, {"cancel-job": False})
    rid = trigger.get("request-id")
    R.require(L("create --raw .../jobs/ID/savepoints -f -: a request id"), bool(rid), trigger)

    def completed():
        st = rest("/jobs/%s/savepoints/%s" % (jid, rid))
        return st if st.get("status", {}).get("id") == "COMPLETED" else None
    st = e2e.wait_for("the savepoint COMPLETED", completed, 60, interval=0.5)
    loc = st.get("operation", {}).get("location") or ""
    path = loc[len("file:"):] if loc.startswith("file:") else loc
    R.check(L("savepoint COMPLETED under the spec's savepointDir, _metadata written"),
            path.startswith(savepoint_dir) and os.path.isfile(os.path.join(path, "_metadata")),
            "%s in %.1fs" % (loc or st, time.monotonic() - t))

    # -- scale -------------------------------------------------------------------------------
    t = time.monotonic()
    rc, out, err = kubectl("scale", "deployments.apps/lc-taskmanager", "--replicas", "2")
    R.require(L("scale deployments.apps/lc-taskmanager --replicas 2"),
              rc == 0 and out == "deployment.apps/lc-taskmanager scaled\n", "exit %d %r %s" % (rc, out, err))

    def two_tms():
        its = get_list()
        tms = [p for p in pods(its, "taskmanager") if ready(p) and not p["metadata"].get("deletionTimestamp")]
        d = one(its, "Deployment")
        registered = rest("/taskmanagers").get("taskmanagers", [])
        if len(tms) == 2 and d["status"].get("readyReplicas") == 2 and len(registered) == 2:
            return tms, registered
        return None
    tms, registered = e2e.wait_for("2 TaskManager pods Ready and registered", two_tms, 90, interval=1)
    ips = sorted(p["status"]["podIP"] for p in tms)
    R.check(L("2 TaskManagers registered (REST /taskmanagers), each at its own pod IP"),
            len(set(ips)) == 2 and sorted(t["id"].split(":")[0] for t in registered) == ips,
            "pod IPs %s, registered %s, after %.1fs" % (ips, [t["id"] for t in registered], time.monotonic() - t))

    # -- delete --------------------------------------------------------------------------------
    import standin      # after KUBECTL_STANDIN_STATE is set: the PIDs behind the pods
    procs = standin.processes(state)
    R.check(L("3 pods, each with a live container process"), len(procs) == 3 and all(c for _, _, c in procs), procs)
    t = time.monotonic()
    rc, out, err = kubectl("delete", "jobs.batch,deployments.apps", "--selector", SEL, "--ignore-not-found",
                           "--wait=false")
    R.check(L("delete jobs.batch,deployments.apps --selector: kubectl's deleted lines"),
            rc == 0 and out.splitlines() == ['job.batch "lc-jobmanager" deleted',
                                             'deployment.apps "lc-taskmanager" deleted'],
            "exit %d %r %s" % (rc, out, err))
    left = pods(get_list())
    R.check(L("the pods show deletionTimestamp while their processes stop"),
            all(p["metadata"].get("deletionTimestamp") for p in left), [p["metadata"]["name"] for p in left])
    e2e.wait_for("every pod gone", lambda: not pods(get_list()), 60, interval=0.5)
    gone = [(n, s, c) for n, s, c in procs if standin.proc_start(s) or (c and standin.proc_start(c))]
    R.check(L("the pods vanished, and every process behind them has exited"), not gone,
            "after %.1fs; still alive: %s" % (time.monotonic() - t, gone))
    rc, out, err = kubectl("get", "--raw", PROXY + "/jobs/overview")
    R.check(L("get --raw with no pod behind the Service: exit 1, ServiceUnavailable"),
            rc == 1 and err.startswith("Error from server (ServiceUnavailable): "), "exit %d, %r" % (rc, err))
    rc, out, err = kubectl("delete", DELETE_ALL, "--selector", SEL, "--ignore-not-found", "--wait=false")
    R.check(L("delete of the remaining kinds: the two Services"),
            rc == 0 and out.splitlines() == ['service "lc-jobmanager" deleted', 'service "lc-jobmanager-rest" deleted'],
            "exit %d %r %s" % (rc, out, err))
    R.check(L("get afterwards: an empty List"), get_list() == [])
    rc, out, err = kubectl("get", "--raw", PROXY + "/jobs/overview")
    R.check(L("get --raw of a deleted Service: exit 1, NotFound"),
            rc == 1 and err.strip() == 'Error from server (NotFound): services "lc-jobmanager-rest" not found', err)
    busy = [(ip, port) for ip, port in [("0.0.0.0", p) for p in e2e.FLINK_PORTS] + [(ip, 6122) for ip in ips]
            if not bindable(ip, port)]
    R.check(L("ports free afterwards: 6123, 6124, 8081, and 6122 on the TaskManagers' pod IPs"), not busy, busy)


def main():
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, e2e._on_signal)
    t0 = time.monotonic()
    work = tempfile.mkdtemp(prefix="kubectl-standin-selftest-")
    state = os.path.join(work, "state")
    print("standin selftest: Flink %s, kubectl-flink %s, work dir %s" % (VERSION, KUBECTL_FLINK, work), flush=True)
    lock = e2e.hold_run_lock("standin selftest")
    code = 0
    try:
        flink_cache = os.path.join(e2e.CACHE, "flink-%s" % VERSION)
        if not os.path.isfile(os.path.join(flink_cache, ".installed")):
            R.require(L("Flink installed in the cache"), False, "%s missing: E2E_INSTALL_ONLY=1 "
                      "E2E_FLINK_VERSIONS=%s scripts/e2e-flink" % (flink_cache, VERSION))
        R.require(L("kubectl-flink binary"), os.access(KUBECTL_FLINK, os.X_OK), "%s (set KUBECTL_FLINK)" % KUBECTL_FLINK)
        jar, _ = e2e.build_job_jar(VERSION, flink_cache)
        os.environ.update(KUBECTL_STANDIN_STATE=state, KUBECTL_STANDIN_FLINK_VERSION=VERSION,
                          KUBECTL_STANDIN_JOB_JAR=jar)
        e2e.wait_ports_free(e2e.FLINK_PORTS)
        test(work, state)
    except e2e.PhaseFailed as err:
        R.check(L("self-test completed"), False, str(err))
    except (OSError, ValueError, KeyError, subprocess.SubprocessError) as err:
        R.check(L("self-test completed"), False, "%s: %s" % (type(err).__name__, err))
    except e2e.Interrupted as err:
        R.check(L("self-test completed without interruption"), False, "signal %d" % err.args[0])
        code = 128 + err.args[0]
    finally:
        if os.path.isdir(state):
            r = subprocess.run([KUBECTL, "--standin-stop-all"], stderr=subprocess.PIPE, timeout=120,
                               env=dict(os.environ, KUBECTL_STANDIN_STATE=state))
            print("     %s" % r.stderr.decode(errors="replace").strip().replace("\n", "\n     "), flush=True)
        if R.failed and os.path.isdir(os.path.join(state, "pods")):
            for d in sorted(os.listdir(os.path.join(state, "pods"))):
                e2e.VersionRun.tail(None, os.path.join(state, "pods", d, "container.log"))
        lock.close()
    print("standin selftest: %.1f s" % (time.monotonic() - t0))
    R.finish(work, "state, pod logs, rendered objects", code)


if __name__ == "__main__":
    main()
