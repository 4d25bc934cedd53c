#!/usr/bin/env python3
"""`kubectl` stand-in for the lifecycle tests (issue 18): the kubectl calls of
/work/notes/lifecycle-contract.md, over real Flink processes. Run through tests/lifecycle/kubectl
(a sh wrapper that picks a python with PyYAML). See tests/lifecycle/README.md.

Every invocation is a process of its own; the cluster lives in a state directory:
  $KUBECTL_STANDIN_STATE/db.json          every object (Pods too), as JSON; private fields under
                                          "_standin" never leave through `get`
  $KUBECTL_STANDIN_STATE/lock             flock: one invocation reads and writes db.json at a time
  $KUBECTL_STANDIN_STATE/calls.log        each invocation's argv and exit code (and proxied
                                          error bodies, which kubectl does not print)
  $KUBECTL_STANDIN_STATE/pods/NS_NAME/    one pod: launch.json (what its supervisor starts),
                                          status.json (written by the supervisor), container.log
                                          (stdout+stderr of every container start), c<N>/ (the
                                          container's N-th start: FLINK_HOME, hosts file, entrypoint log)

A pod is a supervisor process (this file, `--standin-supervise DIR`, in a session of its own, so it
outlives the kubectl call) that runs the Flink container as run.py's launch does, waits for it,
restarts it per restartPolicy with a fresh FLINK_HOME, and on SIGTERM stops it (SIGTERM, SIGKILL
after the pod's grace period). There is no controller process: every invocation first does what the
controllers would have done since the last one (garbage-collect pods, create the pods a Job or a
Deployment lacks, replace pods of an old template).

Environment:
  KUBECTL_STANDIN_STATE          required: the state directory (created if missing)
  KUBECTL_STANDIN_FLINK_VERSION  required for pods: the cached Flink every image holds, e.g. 2.3.0
  KUBECTL_STANDIN_JOB_JAR        required for pods: the job jar the image holds at
                                 /opt/flink/usrlib/e2e-job.jar (tests/e2e/run.py build_job_jar)
  KUBECTL_FLINK_E2E_CACHE        the Flink cache (default ~/.cache/kubectl-flink-e2e, as run.py)
  E2E_JVM_SPEED                  as run.py: extra JVM flags of every Flink JVM (default C1 only)
  KUBECTL_STANDIN_NAMESPACE      what `config view --minify -o jsonpath={..namespace}` prints
                                 (default: nothing, as with a context without a namespace)
  KUBECTL_STANDIN_RESTART_DELAY  seconds before a failed container is started again (default 2;
                                 the kubelet's back-off starts at 10 s)
  KUBECTL_STANDIN_PYTHON         (read by the sh wrapper) the python to run this file with
"""
import datetime
import fcntl
import hashlib
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))
import run as e2e  # noqa: E402  (tests/e2e/run.py: FLINK_HOME, env, argv and hosts of a container)

STATE = os.environ.get("KUBECTL_STANDIN_STATE", "")
RESTART_DELAY = float(os.environ.get("KUBECTL_STANDIN_RESTART_DELAY") or 2)
FIRST_POD_IP = 10                       # pods get 127.0.0.10 ... 127.0.0.254
DEFAULT_GRACE = 30                      # terminationGracePeriodSeconds when the pod spec has none
FLINK_CONTAINERS = ("jobmanager", "taskmanager")

# resource names the contract uses (and the short core ones) -> (apiVersion, kind)
RESOURCES = {
    "jobs.batch": ("batch/v1", "Job"),
    "deployments.apps": ("apps/v1", "Deployment"),
    "pods": ("v1", "Pod"),
    "services": ("v1", "Service"),
    "configmaps": ("v1", "ConfigMap"),
    "secrets": ("v1", "Secret"),
    "serviceaccounts": ("v1", "ServiceAccount"),
    "horizontalpodautoscalers.autoscaling": ("autoscaling/v2", "HorizontalPodAutoscaler"),
    "ingresses.networking.k8s.io": ("networking.k8s.io/v1", "Ingress"),
    "roles.rbac.authorization.k8s.io": ("rbac.authorization.k8s.io/v1", "Role"),
    "rolebindings.rbac.authorization.k8s.io": ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    "poddisruptionbudgets.policy": ("policy/v1", "PodDisruptionBudget"),
}
# kind -> how kubectl names it in its output lines ("job.batch/x created", `job.batch "x" deleted`)
DISPLAY = {
    "Job": "job.batch", "Deployment": "deployment.apps", "Pod": "pod", "Service": "service",
    "ConfigMap": "configmap", "Secret": "secret", "ServiceAccount": "serviceaccount",
    "HorizontalPodAutoscaler": "horizontalpodautoscaler.autoscaling", "Ingress": "ingress.networking.k8s.io",
    "Role": "role.rbac.authorization.k8s.io", "RoleBinding": "rolebinding.rbac.authorization.k8s.io",
    "PodDisruptionBudget": "poddisruptionbudget.policy",
}
APPLY_KINDS = {kind: api for api, kind in RESOURCES.values() if kind != "Pod"}


class Fail(Exception):
    """Exit 1 with this message on stderr (already worded as kubectl words it)."""


class Unsupported(Fail):
    pass


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def note(text):
    if STATE:
        os.makedirs(STATE, exist_ok=True)
        with open(os.path.join(STATE, "calls.log"), "a") as f:
            f.write(text + "\n")


# ---------------------------------------------------------------------------------------------
# processes: alive means running and not a zombie (PID 1 here reaps no orphans), with the start
# time recorded at spawn, so that a reused PID is never taken for the pod's process

def proc_start(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]          # field 22: starttime


def alive(ref):
    return bool(ref) and proc_start(ref[0]) == ref[1]


def signal_ref(ref, sig):
    if alive(ref):
        try:
            os.kill(ref[0], sig)
        except ProcessLookupError:
            pass


def kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# ---------------------------------------------------------------------------------------------
# the object store

class Store:
    def __init__(self):
        if not STATE:
            raise Fail("kubectl stand-in: KUBECTL_STANDIN_STATE is not set")
        os.makedirs(os.path.join(STATE, "pods"), exist_ok=True)
        self.lock = open(os.path.join(STATE, "lock"), "a")
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        path = os.path.join(STATE, "db.json")
        self.db = json.load(open(path)) if os.path.exists(path) else {"seq": 0, "objects": []}

    def save(self):
        path = os.path.join(STATE, "db.json")
        with open(path + ".tmp", "w") as f:
            json.dump(self.db, f, indent=1)
        os.replace(path + ".tmp", path)

    def close(self):
        self.save()
        fcntl.flock(self.lock, fcntl.LOCK_UN)
        self.lock.close()

    @property
    def objects(self):
        return self.db["objects"]

    def next(self):
        self.db["seq"] += 1
        return self.db["seq"]

    def find(self, ns, kind, name):
        for o in self.objects:
            m = o["metadata"]
            if o["kind"] == kind and m["name"] == name and m.get("namespace") == ns:
                return o
        return None

    def of_kind(self, ns, kind):
        return [o for o in self.objects if o["kind"] == kind and o["metadata"].get("namespace") == ns]

    def remove(self, obj):
        self.db["objects"] = [o for o in self.objects if o is not obj]

    def owned(self, owner):
        uid = owner["metadata"]["uid"]
        return [p for p in self.objects if p["kind"] == "Pod"
                and any(r.get("uid") == uid for r in p["metadata"].get("ownerReferences") or [])]


def new_meta(store, meta, ns):
    m = dict(meta)
    m["namespace"] = ns
    m["uid"] = str(uuid.uuid4())
    m["creationTimestamp"] = now()
    m["generation"] = 1
    m["resourceVersion"] = str(store.next())
    return m


def template_hash(template):
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()


def name_suffix(seed, n=5):
    alphabet = "bcdfghjklmnpqrstvwxz2456789"      # the API server's generateName alphabet
    h = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    out = ""
    for _ in range(n):
        h, r = divmod(h, len(alphabet))
        out += alphabet[r]
    return out


# ---------------------------------------------------------------------------------------------
# selectors

def parse_selector(text):
    reqs = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        m = re.fullmatch(r"([A-Za-z0-9_./-]+)\s*(==|!=|=)\s*([A-Za-z0-9_.-]*)", part)
        if m:
            reqs.append((m.group(1), m.group(2), m.group(3)))
        elif re.fullmatch(r"!?[A-Za-z0-9_./-]+", part):
            reqs.append((part.lstrip("!"), "!" if part.startswith("!") else "exists", None))
        else:
            raise Unsupported("selector %r" % text)
    return reqs


def matches(reqs, labels):
    labels = labels or {}
    for key, op, value in reqs:
        if op in ("=", "==") and labels.get(key) != value:
            return False
        if op == "!=" and labels.get(key) == value:
            return False
        if op == "exists" and key not in labels:
            return False
        if op == "!" and key in labels:
            return False
    return True


def selector_of_service(svc):
    return [(k, "=", v) for k, v in (svc.get("spec", {}).get("selector") or {}).items()]


# ---------------------------------------------------------------------------------------------
# pods: creation (what a controller does), status (what the kubelet reports)

def flink_container(template, what):
    spec = template.get("spec") or {}
    if spec.get("initContainers"):
        raise Unsupported("%s: init containers are not modelled" % what)
    cs = spec.get("containers") or []
    if len(cs) != 1 or cs[0].get("name") not in FLINK_CONTAINERS:
        raise Unsupported("%s: pods must have exactly one container named jobmanager or taskmanager, got %s"
                          % (what, [c.get("name") for c in cs]))
    return cs[0]


def check_template(template, ns, what):
    """Refuse at apply time what a pod of this template could not run as modelled."""
    cont = flink_container(template, what)
    argv = list(cont.get("command") or []) + list(cont.get("args") or [])
    if any("kubernetes-jobmanager.sh" in a or "kubernetes-taskmanager.sh" in a for a in argv):
        raise Unsupported("%s: native mode needs a Kubernetes API server (the JobManager creates its "
                          "TaskManager pods through it)" % what)
    if not argv or not (argv[0] == e2e.ENTRYPOINT or argv[0].startswith("/opt/flink/bin/")):
        raise Unsupported("%s: container %s runs %s; modelled are %s and /opt/flink/bin/*.sh"
                          % (what, cont["name"], argv[:1], e2e.ENTRYPOINT))
    try:
        e2e.container_env(cont, "check", pod_ip="127.0.0.2", namespace=ns)
    except e2e.PhaseFailed as err:
        raise Unsupported("%s: %s" % (what, err))
    volumes = {v.get("name"): v for v in (template.get("spec") or {}).get("volumes") or []}
    for m in cont.get("volumeMounts") or []:
        v = volumes.get(m.get("name")) or {}
        if not (v.get("configMap") or "emptyDir" in v) or not m.get("mountPath", "").startswith("/opt/flink/"):
            raise Unsupported("%s: volume mount %s (only configMap and emptyDir volumes under /opt/flink/ are "
                              "modelled)" % (what, json.dumps(m)))
        if m.get("subPath"):
            raise Unsupported("%s: subPath mounts are not modelled" % what)
    probe = cont.get("readinessProbe") or {}
    if probe and not ("httpGet" in probe or "tcpSocket" in probe):
        raise Unsupported("%s: readinessProbe %s (httpGet and tcpSocket are modelled)" % (what, json.dumps(probe)))


def free_pod_ip(store):
    used = {p["_standin"]["ip"] for p in store.objects if p["kind"] == "Pod"}
    for n in range(FIRST_POD_IP, 255):
        ip = "127.0.0.%d" % n
        if ip not in used:
            return ip
    raise Fail("kubectl stand-in: no free pod address left in 127.0.0.%d-254" % FIRST_POD_IP)


def create_pod(store, owner, extra_labels, name):
    ns = owner["metadata"]["namespace"]
    template = owner["spec"]["template"]
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    labels.update(extra_labels)
    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": new_meta(store, {"name": name, "labels": labels,
                                     "annotations": dict((template.get("metadata") or {}).get("annotations") or {}),
                                     "ownerReferences": [{
                                         "apiVersion": owner["apiVersion"], "kind": owner["kind"],
                                         "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
                                         "controller": True, "blockOwnerDeletion": True}]}, ns),
        "spec": json.loads(json.dumps(template.get("spec") or {})),
        "_standin": {"ip": free_pod_ip(store), "dir": os.path.join(STATE, "pods", "%s_%s" % (ns, name)),
                     "hash": template_hash(template), "sup": None, "seq": store.db["seq"]},
    }
    if owner["kind"] == "Job":
        pod["_standin"]["backoffLimit"] = owner["spec"].get("backoffLimit", 6)
    store.objects.append(pod)
    start_pod(store, pod)
    return pod


def start_pod(store, pod):
    """Start the pod's supervisor, unless a ConfigMap it mounts does not exist yet (the kubelet waits
    for it: the pod stays Pending and the next invocation tries again)."""
    ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    spec = pod["spec"]
    cont = spec["containers"][0]
    volumes = {v["name"]: v for v in spec.get("volumes") or []}
    mounts = []
    for m in cont.get("volumeMounts") or []:
        v = volumes[m["name"]]
        if v.get("configMap"):
            cm = store.find(ns, "ConfigMap", v["configMap"]["name"])
            if cm is None:
                pod["_standin"]["waiting"] = "configmap %r not found" % v["configMap"]["name"]
                return
            mounts.append({"path": m["mountPath"], "data": cm.get("data") or {}})
        else:
            mounts.append({"path": m["mountPath"], "data": None})
    pod["_standin"].pop("waiting", None)
    d = pod["_standin"]["dir"]
    os.makedirs(d, exist_ok=True)
    restart = spec.get("restartPolicy", "Always")
    launch = {
        "namespace": ns, "pod": name, "ip": pod["_standin"]["ip"], "container": cont, "mounts": mounts,
        "services": sorted({s["metadata"]["name"] for s in store.of_kind(ns, "Service")}),
        "restartPolicy": restart, "backoffLimit": pod["_standin"].get("backoffLimit"),
        "grace": spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE),
        "version": os.environ.get("KUBECTL_STANDIN_FLINK_VERSION"),
        "jar": os.environ.get("KUBECTL_STANDIN_JOB_JAR"),
    }
    if not launch["version"] or not launch["jar"]:
        raise Fail("kubectl stand-in: KUBECTL_STANDIN_FLINK_VERSION and KUBECTL_STANDIN_JOB_JAR must be set "
                   "to start pods")
    flink_cache = os.path.join(e2e.CACHE, "flink-%s" % launch["version"])
    if not os.path.isfile(os.path.join(flink_cache, ".installed")) or not os.path.isfile(launch["jar"]):
        raise Fail("kubectl stand-in: Flink %s is not installed in %s, or the job jar %s is missing (install: "
                   "E2E_INSTALL_ONLY=1 E2E_FLINK_VERSIONS=%s scripts/e2e-flink)"
                   % (launch["version"], flink_cache, launch["jar"], launch["version"]))
    with open(os.path.join(d, "launch.json"), "w") as f:
        json.dump(launch, f, indent=1)
    log = open(os.path.join(d, "supervisor.log"), "ab")
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--standin-supervise", d],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                         close_fds=True)
    log.close()
    for _ in range(100):                    # the start time identifies the process (PID reuse)
        st = proc_start(p.pid)
        if st:
            break
        time.sleep(0.01)
    pod["_standin"]["sup"] = [p.pid, st]
    pod["status"] = {"phase": "Pending"}


def terminate_pod(pod, grace=None):
    if pod["metadata"].get("deletionTimestamp"):
        return
    pod["metadata"]["deletionTimestamp"] = now()
    pod["metadata"]["deletionGracePeriodSeconds"] = pod["spec"].get("terminationGracePeriodSeconds",
                                                                    DEFAULT_GRACE) if grace is None else grace
    signal_ref(pod["_standin"].get("sup"), signal.SIGTERM)


def read_status(pod):
    try:
        with open(os.path.join(pod["_standin"]["dir"], "status.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def probe_ok(pod, cont):
    """The readiness probe, evaluated now (initialDelaySeconds and periodSeconds are not modelled)."""
    probe = cont.get("readinessProbe")
    if not probe:
        return True
    ip = pod["_standin"]["ip"]
    act = probe.get("httpGet") or probe.get("tcpSocket")
    port = act.get("port")
    if isinstance(port, str):
        port = next((p["containerPort"] for p in cont.get("ports") or [] if p.get("name") == port), None)
        if port is None:
            return False
    try:
        if "tcpSocket" in probe:
            with socket.create_connection((ip, port), timeout=1):
                return True
        url = "http://%s:%d%s" % (ip, port, act.get("path") or "/")
        with urllib.request.urlopen(url, timeout=probe.get("timeoutSeconds", 1)) as r:
            return 200 <= r.status < 400
    except (OSError, urllib.error.URLError, ValueError):
        return False


def pod_status(pod):
    """status as the kubelet reports it, from the supervisor's status.json and a readiness probe."""
    st = read_status(pod)
    cont = pod["spec"]["containers"][0]
    sup_alive = alive(pod["_standin"].get("sup"))
    phase = st.get("phase", "Pending")
    if not sup_alive and phase in ("Pending", "Running"):
        phase = "Failed" if pod["_standin"].get("sup") else "Pending"   # supervisor killed / not started
    running = phase == "Running" and st.get("state") == "running"
    ready = running and probe_ok(pod, cont)
    if running:
        state = {"running": {"startedAt": st.get("startedAt")}}
    elif st.get("state") == "terminated" or phase in ("Succeeded", "Failed"):
        state = {"terminated": {"exitCode": st.get("exitCode", 137), "reason": st.get("reason", "Error"),
                                "finishedAt": st.get("finishedAt")}}
    else:
        state = {"waiting": {"reason": st.get("reason") or "ContainerCreating"}}
        if pod["_standin"].get("waiting"):
            state["waiting"]["message"] = pod["_standin"]["waiting"]
    cstatus = {"name": cont["name"], "image": cont.get("image"), "ready": ready,
               "restartCount": st.get("restartCount", 0), "started": running, "state": state}
    if "lastExitCode" in st:
        cstatus["lastState"] = {"terminated": {"exitCode": st["lastExitCode"]}}
    tf = lambda b: "True" if b else "False"   # noqa: E731
    status = {"phase": phase, "hostIP": "127.0.0.1", "podIP": pod["_standin"]["ip"],
              "podIPs": [{"ip": pod["_standin"]["ip"]}],
              "conditions": [{"type": "PodScheduled", "status": "True"},
                             {"type": "Initialized", "status": "True"},
                             {"type": "ContainersReady", "status": tf(ready)},
                             {"type": "Ready", "status": tf(ready)}],
              "containerStatuses": [cstatus]}
    if st.get("firstStart"):
        status["startTime"] = st["firstStart"]
    return status


# ---------------------------------------------------------------------------------------------
# the controllers, run at the start of every invocation

def reconcile(store):
    # pods: a terminating pod whose supervisor has exited is gone; a pod whose owner is gone is
    # deleted (background cascading deletion); a pod waiting for its ConfigMap is tried again
    for pod in [o for o in store.objects if o["kind"] == "Pod"]:
        sup = pod["_standin"].get("sup")
        if pod["metadata"].get("deletionTimestamp"):
            if not alive(sup):
                store.remove(pod)
            continue
        owners = pod["metadata"].get("ownerReferences") or []
        ns = pod["metadata"]["namespace"]
        if owners and not any(o["metadata"]["uid"] == owners[0]["uid"] for o in store.of_kind(ns, owners[0]["kind"])):
            terminate_pod(pod)
            if not alive(sup):
                store.remove(pod)
            continue
        if sup is None:
            start_pod(store, pod)
        pod["status"] = pod_status(pod)
    for job in [o for o in store.objects if o["kind"] == "Job"]:
        reconcile_job(store, job)
    for dep in [o for o in store.objects if o["kind"] == "Deployment"]:
        reconcile_deployment(store, dep)


def reconcile_job(store, job):
    pods = [p for p in store.owned(job) if not p["metadata"].get("deletionTimestamp")]
    phases = [p["status"]["phase"] for p in pods]
    succeeded, failed = phases.count("Succeeded"), phases.count("Failed")
    active = len(pods) - succeeded - failed
    limit = job["spec"].get("backoffLimit", 6)
    policy = job["spec"]["template"].get("spec", {}).get("restartPolicy", "Never")
    # OnFailure: the kubelet restarts in place and a pod fails once its restarts reach backoffLimit
    # (the supervisor stops then); Never: the controller makes a new pod per failure
    job_failed = failed > 0 if policy == "OnFailure" else failed > limit
    if not active and not succeeded and not job_failed:
        seq = store.next()
        create_pod(store, job, {"batch.kubernetes.io/controller-uid": job["metadata"]["uid"],
                                "batch.kubernetes.io/job-name": job["metadata"]["name"],
                                "controller-uid": job["metadata"]["uid"], "job-name": job["metadata"]["name"]},
                   "%s-%s" % (job["metadata"]["name"], name_suffix("%s/%d" % (job["metadata"]["uid"], seq))))
        active = 1
    ready = sum(1 for p in pods if p["status"]["phase"] == "Running"
                and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"]["conditions"]))
    status = {"startTime": job["metadata"]["creationTimestamp"], "ready": ready}
    for key, n in (("active", active), ("succeeded", succeeded), ("failed", failed)):
        if n:                               # zero counts are left out, as the API server does
            status[key] = n
    if succeeded:
        status["completionTime"] = status.get("completionTime") or now()
        status["conditions"] = [{"type": "Complete", "status": "True"}]
    elif job_failed:
        status["conditions"] = [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]
    old = job.get("status") or {}
    if "completionTime" in old:
        status["completionTime"] = old["completionTime"]
    job["status"] = status


def reconcile_deployment(store, dep):
    want = dep["spec"].get("replicas", 1)
    h = template_hash(dep["spec"]["template"])
    rs_hash = h[:10]
    pods = store.owned(dep)
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    # a pod of an old template is replaced; a pod whose supervisor died is replaced too
    for p in live:
        if p["_standin"]["hash"] != h or (p["_standin"].get("sup") and p["status"]["phase"] == "Failed"):
            terminate_pod(p)
    live = [p for p in live if not p["metadata"].get("deletionTimestamp")]
    recreate = (dep["spec"].get("strategy") or {}).get("type") == "Recreate"
    waiting_for_old = recreate and any(p["_standin"]["hash"] != h for p in pods)
    if len(live) < want and not waiting_for_old:
        for _ in range(want - len(live)):
            seq = store.next()
            live.append(create_pod(store, dep, {"pod-template-hash": rs_hash},
                                   "%s-%s-%s" % (dep["metadata"]["name"], rs_hash,
                                                 name_suffix("%s/%d" % (dep["metadata"]["uid"], seq)))))
            live[-1]["status"] = pod_status(live[-1])
    elif len(live) > want:
        for p in sorted(live, key=lambda p: p["_standin"]["seq"], reverse=True)[:len(live) - want]:
            terminate_pod(p)
        live = [p for p in live if not p["metadata"].get("deletionTimestamp")]
    ready = sum(1 for p in live if any(c["type"] == "Ready" and c["status"] == "True"
                                       for c in p["status"]["conditions"]))
    dep["status"] = {"observedGeneration": dep["metadata"]["generation"], "replicas": len(live),
                     "updatedReplicas": sum(1 for p in live if p["_standin"]["hash"] == h),
                     "readyReplicas": ready, "availableReplicas": ready}
    if ready < len(live):
        dep["status"]["unavailableReplicas"] = len(live) - ready
    for k in ("readyReplicas", "availableReplicas"):
        if not dep["status"][k]:
            del dep["status"][k]


# ---------------------------------------------------------------------------------------------
# verbs

def public(obj):
    return {k: v for k, v in obj.items() if k != "_standin"}


def resources(text):
    out = []
    for r in text.split(","):
        if r not in RESOURCES:
            raise Unsupported("resource %r" % r)
        out.append(RESOURCES[r][1])
    return out


def cmd_get(store, ns, res, selector):
    kinds = resources(res)
    reqs = parse_selector(selector)
    items = []
    for kind in kinds:
        objs = sorted(store.of_kind(ns, kind), key=lambda o: o["metadata"]["name"])
        items += [public(o) for o in objs if matches(reqs, o["metadata"].get("labels"))]
    print(json.dumps({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}},
                     indent=4))


def cmd_apply(store, ns):
    import yaml   # PyYAML: the wrapper runs a python that has it
    text = sys.stdin.read()
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as err:
        raise Fail("error: error parsing STDIN: %s" % err)
    objs = []
    for d in docs:
        objs += d.get("items") or [] if d.get("kind") == "List" else [d]
    if not objs:
        raise Fail("error: no objects passed to apply")
    planned = []
    for o in objs:
        kind, api = o.get("kind"), o.get("apiVersion")
        meta = o.get("metadata") or {}
        if APPLY_KINDS.get(kind) != api:
            raise Fail('error: resource mapping not found for name: "%s" namespace: "%s" from "STDIN": no matches '
                       'for kind "%s" in version "%s"' % (meta.get("name"), meta.get("namespace", ""), kind, api))
        if meta.get("namespace") and meta["namespace"] != ns:
            raise Fail('error: the namespace from the provided object "%s" does not match the namespace "%s". '
                       "You must pass '--namespace=%s' to perform this operation."
                       % (meta["namespace"], ns, meta["namespace"]))
        what = "%s/%s" % (DISPLAY[kind], meta.get("name"))
        if kind in ("Job", "Deployment"):
            check_template(o["spec"]["template"], ns, what)
        old = store.find(ns, kind, meta.get("name"))
        if old is not None and kind == "Job" and old["spec"]["template"] != o["spec"]["template"]:
            raise Fail('The Job "%s" is invalid: spec.template: Invalid value: ...: field is immutable'
                       % meta["name"])
        if old is not None and kind == "Deployment" and old["spec"].get("selector") != o["spec"].get("selector"):
            raise Fail('The Deployment "%s" is invalid: spec.selector: Invalid value: ...: field is immutable'
                       % meta["name"])
        planned.append((o, old, what))
    for o, old, what in planned:
        body = {k: v for k, v in o.items() if k not in ("status",)}
        if old is None:
            body["metadata"] = new_meta(store, o["metadata"], ns)
            store.objects.append(body)
            print("%s created" % what)
            continue
        fields = lambda x: {k: v for k, v in public(x).items() if k not in ("metadata", "status")}  # noqa: E731
        same = fields(old) == fields(body) and \
            {k: (old["metadata"].get(k) or {}) for k in ("labels", "annotations")} == \
            {k: (o["metadata"].get(k) or {}) for k in ("labels", "annotations")}
        if same:
            print("%s unchanged" % what)
            continue
        if body.get("spec") != old.get("spec"):
            old["metadata"]["generation"] += 1
        for k in ("labels", "annotations"):
            if o["metadata"].get(k) is not None:
                old["metadata"][k] = o["metadata"][k]
        for k in [k for k in old if k not in ("metadata", "status", "_standin", *body)]:
            del old[k]
        for k, v in body.items():
            if k != "metadata":
                old[k] = v
        old["metadata"]["resourceVersion"] = str(store.next())
        print("%s configured" % what)
    reconcile(store)


def cmd_delete(store, ns, res, selector, ignore_not_found):
    kinds = resources(res)
    reqs = parse_selector(selector)
    found = False
    for kind in kinds:
        for o in sorted(store.of_kind(ns, kind), key=lambda o: o["metadata"]["name"]):
            if not matches(reqs, o["metadata"].get("labels")):
                continue
            found = True
            if kind == "Pod":
                terminate_pod(o)
            else:
                store.remove(o)
            print('%s "%s" deleted' % (DISPLAY[kind], o["metadata"]["name"]))
    if not found and not ignore_not_found:
        print("No resources found", file=sys.stderr)
    reconcile(store)


def cmd_scale(store, ns, target, replicas):
    res, _, name = target.partition("/")
    if res != "deployments.apps" or not name:
        raise Unsupported("scale %s" % target)
    dep = store.find(ns, "Deployment", name)
    if dep is None:
        raise Fail('Error from server (NotFound): deployments.apps "%s" not found' % name)
    if dep["spec"].get("replicas", 1) != replicas:
        dep["spec"]["replicas"] = replicas
        dep["metadata"]["generation"] += 1
    print("deployment.apps/%s scaled" % name)
    reconcile(store)


# kubectl's words for an unstructured error response (k8s.io/apimachinery errors.NewGenericServerResponse,
# used by client-go's newUnstructuredResponseError): the body is only shown when it is text/*
GENERIC = {
    400: ("BadRequest", "the server rejected our request for an unknown reason"),
    401: ("Unauthorized", "the server has asked for the client to provide credentials"),
    404: ("NotFound", "the server could not find the requested resource"),
    405: ("MethodNotAllowed", "the server does not allow this method on the requested resource"),
    409: ("Conflict", "the server reported a conflict"),
    422: ("Invalid", "the server rejected our request due to an error in our request"),
    429: ("TooManyRequests", "the server has received too many requests and has asked us to try again later"),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    504: ("Timeout", "the server was unable to return a response in the time allotted, but may still be "
                     "processing the request"),
}


def server_error(code, method, body, content_type):
    text = body.decode(errors="replace").strip()[:2048] if (not content_type or content_type.startswith("text/")) \
        else "unknown"
    reason, message = GENERIC.get(code, (None, None))
    if code == 409 and method == "POST":
        reason = "AlreadyExists"
    if reason is None:
        if code >= 500:
            reason, message = "InternalError", 'an error on the server (%s) has prevented the request from ' \
                'succeeding' % json.dumps(text)
        else:
            return "Error from server: the server responded with the status code %d but did not return more " \
                "information" % code
    return "Error from server (%s): %s" % (reason, message)


def cmd_proxy(store, method, path, body):
    """GET / POST through the API server's service proxy to a ready pod behind the Service."""
    m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/services/(?:(https?):)?([^/:]+)(?::([^/]*))?/proxy(/.*)?", path)
    if not m:
        raise Unsupported("raw path %s" % path)
    ns, scheme, svc_name, port_ref, rest = m.groups()
    if scheme == "https":
        raise Unsupported("https service proxy")
    svc = store.find(ns, "Service", svc_name)
    if svc is None:
        raise Fail('Error from server (NotFound): services "%s" not found' % svc_name)
    ports = svc["spec"].get("ports") or []
    port = next((p for p in ports if port_ref in (p.get("name"), str(p.get("port")))), None) if port_ref \
        else (ports[0] if len(ports) == 1 else None)
    if port is None:
        raise Fail("Error from server (ServiceUnavailable): no service port %r found for service \"%s\""
                   % (port_ref, svc_name))
    reqs = selector_of_service(svc)
    endpoints = []
    for pod in store.of_kind(ns, "Pod"):
        if pod["metadata"].get("deletionTimestamp") or not matches(reqs, pod["metadata"].get("labels")):
            continue
        if not any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"]["conditions"]):
            continue
        target = port.get("targetPort", port.get("port"))
        if isinstance(target, str):
            cont = pod["spec"]["containers"][0]
            target = next((p["containerPort"] for p in cont.get("ports") or [] if p.get("name") == target), None)
        if target is not None:
            endpoints.append((pod["_standin"]["ip"], target))
    if not endpoints:
        raise Fail('Error from server (ServiceUnavailable): no endpoints available for service "%s"' % svc_name)
    ip, target = endpoints[0]
    return "http://%s:%d%s" % (ip, target, rest or "/"), method, body


def record(url, method, status, data):
    """With KUBECTL_STANDIN_RECORD=FILE, appends each proxied answer as a JSON line (what the
    unit tests of the REST client read as recorded responses)."""
    path = os.environ.get("KUBECTL_STANDIN_RECORD")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({"method": method, "path": "/" + url.split("/", 3)[3], "status": status,
                                "body": data.decode(errors="replace")}, sort_keys=True) + "\n")


def forward(url, method, body):
    """Forwards a proxied request as kubectl and the API server pass it on: the body unchanged
    and no Content-Type (kubectl's `create --raw -f -` sends none; tests/lifecycle/kubectl_raw.py
    checks that against real kubectl)."""
    host_port, path = url[len("http://"):].split("/", 1)
    conn = http.client.HTTPConnection(host_port, timeout=30)
    try:
        conn.putrequest(method, "/" + path, skip_accept_encoding=True)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
    except OSError as err:
        # the API server's proxy answers 503 with a text/plain body, which kubectl prints
        raise Fail("Error from server (ServiceUnavailable): error trying to reach service: dial tcp %s: %s"
                   % (host_port, err))
    finally:
        conn.close()
    record(url, method, resp.status, data)
    if 200 <= resp.status < 300:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    note("  -> HTTP %d %s" % (resp.status, data.decode(errors="replace")[:2000]))
    raise Fail(server_error(resp.status, method, data, resp.getheader("Content-Type", "")))


# ---------------------------------------------------------------------------------------------
# argv

def parse(argv):
    """(verb, options) of a contract call, or Unsupported."""
    ns = None
    rest = []
    i = 0
    while i < len(argv):
        a = argv[i]
        key, eq, val = a.partition("=")
        if key in ("--namespace", "-n", "--context", "--kubeconfig"):
            if not eq:
                if i + 1 >= len(argv):
                    raise Unsupported(" ".join(argv))
                val, i = argv[i + 1], i + 1
            if key in ("--namespace", "-n"):
                ns = val
        else:
            rest.append(a)
        i += 1
    return ns, rest


def take(args, *names, flag=False):
    """Remove option `names` (with its value, or a boolean flag) from args; return its value."""
    for i, a in enumerate(args):
        key, eq, val = a.partition("=")
        if key in names:
            if flag:
                del args[i]
                return val if eq else "true"
            if eq:
                del args[i]
                return val
            if i + 1 < len(args):
                val = args[i + 1]
                del args[i:i + 2]
                return val
    return None


def main(argv):
    if argv[:1] == ["--standin-supervise"]:
        return supervise(argv[1])
    if argv[:1] == ["--standin-stop-all"]:
        return stop_all()
    note("kubectl %s" % " ".join(shlex.quote(a) for a in argv))
    ns_opt, args = parse(argv)
    ns = ns_opt or "default"
    verb = args[0] if args else ""
    unsupported = Unsupported(" ".join(argv))
    if verb == "config":
        if args != ["config", "view", "--minify", "-o", "jsonpath={..namespace}"]:
            raise unsupported
        sys.stdout.write(os.environ.get("KUBECTL_STANDIN_NAMESPACE", ""))
        return 0
    store = Store()
    proxied = None
    try:
        reconcile(store)
        args = args[1:]
        if verb == "get" and args[:1] == ["--raw"] and len(args) == 2:
            proxied = cmd_proxy(store, "GET", args[1], None)
        elif verb == "create" and args[:1] == ["--raw"]:
            path = args[1] if len(args) > 1 else None
            f = take(args, "-f", "--filename")
            if f != "-" or len(args) != 2:
                raise unsupported
            proxied = cmd_proxy(store, "POST", path, sys.stdin.buffer.read())
        elif verb == "get":
            sel = take(args, "--selector", "-l")
            out = take(args, "-o", "--output")
            if sel is None or out != "json" or len(args) != 1:
                raise unsupported
            cmd_get(store, ns, args[0], sel)
        elif verb == "apply":
            if take(args, "-f", "--filename") != "-" or args:
                raise unsupported
            cmd_apply(store, ns)
        elif verb == "delete":
            sel = take(args, "--selector", "-l")
            ignore = take(args, "--ignore-not-found", flag=True)
            wait = take(args, "--wait", flag=True)
            if sel is None or len(args) != 1 or ignore not in (None, "true", "false") \
                    or wait not in (None, "true", "false"):
                raise unsupported
            cmd_delete(store, ns, args[0], sel, ignore == "true")
        elif verb == "scale":
            replicas = take(args, "--replicas")
            if replicas is None or not replicas.isdigit() or len(args) != 1:
                raise unsupported
            cmd_scale(store, ns, args[0], int(replicas))
        else:
            raise unsupported
    finally:
        store.close()
    if proxied:                    # the HTTP call runs without the lock
        forward(*proxied)
    return 0


# ---------------------------------------------------------------------------------------------
# the pod supervisor (kubelet + container runtime for one pod)

def write_json(path, data):
    with open(path + ".tmp", "w") as f:
        json.dump(data, f, indent=1)
    os.replace(path + ".tmp", path)


def prepare_container(launch, d, restart):
    """A container start as run.py's launch does it: a fresh FLINK_HOME, the mounted ConfigMaps, the
    image's and the container's env, the hosts file, command + args. Returns (argv, env, cwd)."""
    version, cont, ip, pod = launch["version"], launch["container"], launch["ip"], launch["pod"]
    flink_cache = os.path.join(e2e.CACHE, "flink-%s" % version)
    cdir = os.path.join(d, "c%d" % restart)
    shutil.rmtree(cdir, ignore_errors=True)
    home = os.path.join(cdir, "flink")
    argv0 = (list(cont.get("command") or []) + list(cont.get("args") or [""]))[0]
    e2e.make_flink_home(version, flink_cache, home, launch["jar"], image=argv0 == e2e.ENTRYPOINT)
    taskmanager = cont["name"] == "taskmanager"
    conf_path = os.path.join(home, "conf", e2e.conf_file_name(version))
    if taskmanager:
        bind_to_pod_ip(conf_path, ip)
    for m in launch["mounts"]:
        path = m["path"].replace("/opt/flink", home)
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
        for fname, text in (m["data"] or {}).items():
            with open(os.path.join(path, fname), "w") as f:
                f.write(text)
        conf = os.path.join(path, e2e.conf_file_name(version))
        if m["data"] is not None and os.path.isfile(conf):
            # as run.py's mount_configmap: the machine-local lines appended (scratch dirs, fast retry)
            _, local = e2e.local_conf(version, flink_cache, home)
            with open(conf, "a") as f:
                f.write("\n# appended by the kubectl stand-in (local machine only):\n" + "\n".join(local) + "\n")
            if taskmanager:
                bind_to_pod_ip(conf, ip)
    hosts = os.path.join(cdir, "hosts")
    e2e.write_hosts(hosts, launch["services"] + [e2e.ZK_HOST], own=(pod, ip))
    env = e2e.flink_env(home, hosts, version)
    bin_dir = os.path.join(cdir, "standin-bin")
    os.makedirs(bin_dir)
    os.symlink(os.path.join(e2e.STANDIN_DIR, "hostname"), os.path.join(bin_dir, "hostname"))
    env["PATH"] = bin_dir + os.pathsep + env["PATH"]
    env["MATRIX_POD_NAME"] = pod
    env["MATRIX_FLINK_MINOR"] = str(e2e.minor(version))
    env["MATRIX_ENTRYPOINT_LOG"] = os.path.join(cdir, "entrypoint.log")
    cenv = e2e.container_env(cont, pod, pod_ip=ip, namespace=launch["namespace"])
    for k, v in cenv.items():
        env[k] = v.replace("/opt/flink", home)
    argv = e2e.local_argv(cont, home, cenv)
    ro = [m["path"].replace("/opt/flink", home) for m in launch["mounts"] if m["data"] is not None]
    if ro:
        # a ConfigMap volume is read-only: a read-only bind mount in a mount namespace of its own
        cmd = " && ".join("mount --bind -o ro %s %s" % (shlex.quote(p), shlex.quote(p)) for p in sorted(ro))
        argv = ["unshare", "-rm", "sh", "-c", cmd + ' && exec "$@"', "sh"] + argv
    return argv, env, home


def bind_to_pod_ip(conf_path, ip):
    """The stand-in for the pod's network namespace: a TaskManager binds to and advertises its pod IP
    (taskmanager.bind-host / taskmanager.host in the image's config, replacing 0.0.0.0 or localhost),
    so that two TaskManagers on this host do not clash on the rendered taskmanager.rpc.port. The
    rendered argv and env are not changed: a -D there still wins."""
    with open(conf_path) as f:
        lines = [l for l in f.read().splitlines()
                 if not re.match(r"\s*taskmanager\.(bind-host|host)\s*:", l)]
    lines += ["# kubectl stand-in: the pod's own address (its network namespace)",
              "taskmanager.bind-host: %s" % ip, "taskmanager.host: %s" % ip]
    with open(conf_path, "w") as f:
        f.write("\n".join(lines) + "\n")


def _pdeathsig():
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)      # PR_SET_PDEATHSIG: the container dies with us
    except Exception:
        pass


def supervise(d):
    with open(os.path.join(d, "launch.json")) as f:
        launch = json.load(f)
    status_path = os.path.join(d, "status.json")
    status = {"phase": "Pending", "state": "waiting", "reason": "ContainerCreating", "restartCount": 0}
    write_json(status_path, status)
    term = []
    signal.signal(signal.SIGTERM, lambda *_: term.append(time.monotonic()))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    log = open(os.path.join(d, "container.log"), "ab")
    restart = 0
    while not term:
        try:
            argv, env, cwd = prepare_container(launch, d, restart)
        except Exception as err:    # a start that cannot be prepared is a failed container
            log.write(("### kubectl stand-in: container start failed: %r\n" % err).encode())
            log.flush()
            status.update(phase="Failed", state="terminated", exitCode=128, reason="StartError", finishedAt=now())
            write_json(status_path, status)
            return 1
        log.write(("### start %d of %s: %s\n" % (restart, launch["pod"], " ".join(argv))).encode())
        log.flush()
        p = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True, preexec_fn=_pdeathsig)
        status.update(phase="Running", state="running", containerPid=p.pid, containerStart=proc_start(p.pid),
                      startedAt=now(), reason=None)
        status.setdefault("firstStart", status["startedAt"])
        write_json(status_path, status)
        sent_term = sent_kill = False
        while p.poll() is None:
            if term and not sent_term:
                p.send_signal(signal.SIGTERM)
                sent_term = True
            if term and not sent_kill and time.monotonic() - term[0] > launch["grace"]:
                p.kill()
                sent_kill = True
            time.sleep(0.1)
        kill_group(p.pid)           # helper processes of the bash scripts
        rc = p.returncode if p.returncode >= 0 else 128 - p.returncode
        log.write(("### exit %d\n" % rc).encode())
        log.flush()
        status.update(state="terminated", exitCode=rc, finishedAt=now(), lastExitCode=rc,
                      reason="Completed" if rc == 0 else "Error")
        policy = launch["restartPolicy"]
        again = not term and (policy == "Always" or (policy == "OnFailure" and rc != 0))
        if again and launch.get("backoffLimit") is not None and status["restartCount"] >= launch["backoffLimit"]:
            again = False
        if not again:
            status["phase"] = "Succeeded" if rc == 0 else "Failed"
            write_json(status_path, status)
            break
        restart += 1
        status.update(phase="Running", state="waiting", reason="CrashLoopBackOff", restartCount=restart)
        write_json(status_path, status)
        deadline = time.monotonic() + RESTART_DELAY
        while time.monotonic() < deadline and not term:
            time.sleep(0.1)
    else:                           # SIGTERM before a start or during the restart delay
        status.update(phase="Failed", state="terminated", exitCode=status.get("exitCode", 143))
        write_json(status_path, status)
    log.close()
    return 0


# ---------------------------------------------------------------------------------------------
# the end of a test run

def processes(state=None):
    """[(pod name, supervisor pid, container pid)] of every pod whose supervisor is alive."""
    path = os.path.join(state or STATE, "db.json")
    if not os.path.exists(path):
        return []
    out = []
    for pod in json.load(open(path))["objects"]:
        if pod["kind"] != "Pod" or not alive(pod["_standin"].get("sup")):
            continue
        st = read_status(pod)
        cref = [st.get("containerPid"), st.get("containerStart")]
        out.append((pod["metadata"]["name"], pod["_standin"]["sup"][0], cref[0] if alive(cref) else None))
    return out


def stop_all(grace=10):
    """Stop every pod of the state dir: SIGTERM, SIGKILL after `grace` seconds; every object goes.
    Prints what it stopped; exit 0."""
    if not STATE or not os.path.isdir(STATE):
        return 0
    store = Store()
    pods = [o for o in store.objects if o["kind"] == "Pod"]
    refs = []
    for pod in pods:
        st = read_status(pod)
        refs.append((pod, pod["_standin"].get("sup"), [st.get("containerPid"), st.get("containerStart")]))
        signal_ref(pod["_standin"].get("sup"), signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(alive(s) or alive(c) for _, s, c in refs):
        time.sleep(0.2)
    for pod, sup, cont in refs:
        killed = alive(sup) or alive(cont)
        signal_ref(sup, signal.SIGKILL)
        signal_ref(cont, signal.SIGKILL)
        if cont[0]:
            kill_group(cont[0])
        if alive(sup) or alive(cont) or killed:
            print("kubectl stand-in: %s needed SIGKILL" % pod["metadata"]["name"], file=sys.stderr)
    store.db["objects"] = []
    store.close()
    print("kubectl stand-in: stopped %d pod(s)" % len(pods), file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        code = main(sys.argv[1:])
    except Unsupported as err:
        call = " ".join(sys.argv[1:])
        print("kubectl stand-in: unsupported: %s%s" % (call, "" if str(err) == call else " (%s)" % err),
              file=sys.stderr)
        code = 1
    except Fail as err:
        print(err, file=sys.stderr)
        code = 1
    except BrokenPipeError:
        code = 0
    if sys.argv[1:2] not in (["--standin-supervise"], ["--standin-stop-all"]):
        note("  -> exit %d" % code)
    sys.exit(code)
