#!/usr/bin/env python3
"""Flink version matrix, script level: see tests/matrix/README.md. Python stdlib only.

For each version in FLINK_MATRIX_VERSIONS: render tests/matrix/specs/*.json for it, run every
rendered JobManager/TaskManager container's command+args through the image entrypoint stand-in
and the version's real bin/*.sh (java stand-in: real BashJavaUtils, recorded final launch), run
the version's entrypoint parser + GlobalConfiguration on the recorded launch, and check it
against the spec. Prints PASS/FAIL lines and "N passed, M failed".
"""
import concurrent.futures as cf
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "standin")
CACHE = os.environ["KUBECTL_FLINK_E2E_CACHE"]
KUBECTL_FLINK = os.environ["KUBECTL_FLINK"]
VERSIONS = os.environ.get("FLINK_MATRIX_VERSIONS", "").split()
JOBS = int(os.environ.get("FLINK_MATRIX_JOBS", "2"))
BREAK = os.environ.get("FLINK_MATRIX_BREAK", "")
REAL_JAVA = os.path.realpath(shutil.which("java"))
POD_IP = "10.244.1.17"
POD_NAMESPACE = "matrix-ns"    # not Flink's own default ("default"), so a lost namespace shows
LOCK = threading.Lock()
RESULTS = []   # (ok, version, name, detail)

# The smallest sizes each version's startup memory calculation accepts (measured by
# tests/matrix/memory_thresholds.py, /work/notes/memory-thresholds.md): FLIP-49 process sizes.
JM_MIN_MIB = 577    # 1.11+
TM_MIN_MIB = 982    # 1.10+


def vt(v):
    return tuple(int(x) for x in v.split(".")[:2])


def minor(v):
    a, b = vt(v)
    return a * 100 + b


def check(version, name, ok, detail=""):
    with LOCK:
        RESULTS.append((bool(ok), version, name, detail))
        print("%s %s %s%s" % ("PASS" if ok else "FAIL", version, name,
                              (": " + detail) if (detail and not ok) else ""), flush=True)
    return ok


# --- FLINK_HOME copies --------------------------------------------------------------------------
def flink_home(version, dest, image_conf):
    """bin/ and conf/ copied (config.sh derives FLINK_HOME from `pwd -P`; the entrypoint edits
    conf/), lib/ opt/ plugins/ as one symlink per file (constructFlinkClassPath runs `find`)."""
    src = os.path.join(CACHE, "flink-" + version)
    os.makedirs(dest)
    shutil.copytree(os.path.join(src, "bin"), os.path.join(dest, "bin"), symlinks=True)
    shutil.copytree(os.path.join(src, "conf"), os.path.join(dest, "conf"))
    os.makedirs(os.path.join(dest, "log"))
    os.makedirs(os.path.join(dest, "usrlib"))
    for sub in ("lib", "opt", "plugins"):
        base = os.path.join(src, sub)
        for root, _dirs, files in os.walk(base):
            rel = os.path.relpath(root, base)
            out = os.path.normpath(os.path.join(dest, sub, rel))
            os.makedirs(out, exist_ok=True)
            for f in files:
                os.symlink(os.path.join(root, f), os.path.join(out, f))
    if image_conf:
        dockerfile_conf_edits(version, dest)
    return dest


def dockerfile_conf_edits(version, home):
    """What apache/flink-docker's Dockerfile template does to the stock conf (dev-1.15 ... dev-2.3;
    earlier branches do nothing): the bind hosts to 0.0.0.0, `taskmanager.host: localhost` removed.
    flink-conf.yaml: the same `sed` edits; config.yaml (1.19+ without flink-conf.yaml): the
    distribution's own bin/config-parser-utils.sh -repKV/-rmKV, run here through the java stand-in."""
    if minor(version) < 115:
        return
    legacy = os.path.join(home, "conf", "flink-conf.yaml")
    if os.path.exists(legacy):
        with open(legacy) as f:
            text = f.read()
        for k in ("rest.address", "rest.bind-address", "jobmanager.bind-host", "taskmanager.bind-host"):
            text = text.replace("%s: localhost" % k, "%s: 0.0.0.0" % k)
        text = "".join(l for l in text.splitlines(True) if "taskmanager.host: localhost" not in l)
        with open(legacy, "w") as f:
            f.write(text)
        return
    argv = ["bash", os.path.join(home, "bin", "config-parser-utils.sh"), os.path.join(home, "conf"),
            os.path.join(home, "bin"), os.path.join(home, "lib"),
            "-repKV", "rest.address,localhost,0.0.0.0", "-repKV", "rest.bind-address,localhost,0.0.0.0",
            "-repKV", "jobmanager.bind-host,localhost,0.0.0.0", "-repKV", "taskmanager.bind-host,localhost,0.0.0.0",
            "-rmKV", "taskmanager.host=localhost"]
    p = subprocess.run(argv, env=base_env(home, os.path.join(home, "dockerfile.rec"), "build"),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("Dockerfile conf edits via config-parser-utils.sh failed: " + p.stdout[-500:])


def base_env(home, record, pod):
    jdk = os.path.join(os.path.dirname(record), "jdk")
    if not os.path.isdir(jdk):
        os.makedirs(os.path.join(jdk, "bin"), exist_ok=True)
        os.symlink(os.path.join(STANDIN, "java"), os.path.join(jdk, "bin", "java"))
    return {
        "PATH": STANDIN + ":" + os.path.join(jdk, "bin") + ":/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
        "FLINK_HOME": home,            # the official image sets it (ENV FLINK_HOME=/opt/flink)
        "JAVA_HOME": jdk,              # ... and its base image sets JAVA_HOME
        "MATRIX_REAL_JAVA": REAL_JAVA, "MATRIX_RECORD": record, "MATRIX_POD_NAME": pod,
    }


# --- rendering ------------------------------------------------------------------------------------
def java_opts_key(version):
    with open(os.path.join(CACHE, "flink-" + version, "bin", "config.sh")) as f:
        return "env.java.opts.all" if "env.java.opts.all" in f.read() else "env.java.opts"


def load_spec(name, version):
    with open(os.path.join(HERE, "specs", name)) as f:
        spec = json.loads(f.read().replace("@JAVA_OPTS_KEY@", java_opts_key(version)))
    spec["spec"]["flinkVersion"] = "%d.%d" % vt(version)
    if minor(version) <= 110:
        spec["spec"].pop("metrics", None)   # kubectl-flink refuses it there (reporter jar in opt/)
    ha = spec["spec"].get("highAvailability")
    if ha and ha["type"] == "kubernetes" and minor(version) < 112:
        # Kubernetes HA came with 1.12: older versions run the same spec with ZooKeeper.
        ha.update(type="zookeeper", zookeeper={"quorum": "zk-0.zk:2181"})
    return spec


def render(spec, version, work, name, extra=()):
    path = os.path.join(work, name + ".spec.json")
    with open(path, "w") as f:
        json.dump(spec, f, indent=1)
    argv = [KUBECTL_FLINK, "render", "-f", path, "-o", "json"] + list(extra)
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def workloads(items):
    out = []
    for o in items:
        if o.get("kind") in ("Job", "Deployment"):
            pod = o["spec"]["template"]["spec"]
            for c in pod.get("containers", []):
                if c.get("name") in ("jobmanager", "taskmanager"):
                    out.append((o, pod, c))
    return out


def k8s_expand(s, env):
    """Kubernetes $(VAR) expansion: known variables replaced, $$ -> $, unknown left as is."""
    def rep(m):
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)", rep, s)


def container_env(c, pod_name):
    env = {}
    for e in c.get("env", []) or []:
        if "value" in e:
            env[e["name"]] = k8s_expand(str(e["value"]), env)
        elif "valueFrom" in e and "fieldRef" in e["valueFrom"]:
            fp = e["valueFrom"]["fieldRef"]["fieldPath"]
            env[e["name"]] = {"status.podIP": POD_IP, "metadata.name": pod_name,
                              "metadata.namespace": POD_NAMESPACE}.get(fp, "")
        else:
            env[e["name"]] = ""   # secrets etc. are not used by the matrix specs
    return env


# --- running one container ------------------------------------------------------------------------
def run_container(version, items, obj, pod, c, work, tag, image_conf):
    """Returns dict(rc, out, launches, home, entrypoint_log)."""
    home = flink_home(version, os.path.join(work, tag, "flink"), image_conf)
    record = os.path.join(work, tag, "launch.rec")
    pod_name = obj["metadata"]["name"] + "-7d9f8-x2k4q"
    env = base_env(home, record, pod_name)
    cenv = container_env(c, pod_name)
    fix = lambda s: s.replace("/opt/flink", home)
    for k, v in cenv.items():
        env[k] = fix(v)
    env["MATRIX_FLINK_MINOR"] = str(minor(version))
    env["MATRIX_ENTRYPOINT_LOG"] = os.path.join(work, tag, "entrypoint.log")
    argv = [fix(k8s_expand(x, cenv)) for x in (c.get("command") or []) + (c.get("args") or [])]
    if not argv:
        argv = ["/docker-entrypoint.sh"]   # the image's ENTRYPOINT with no args would print help
    if argv[0] == "/docker-entrypoint.sh":
        argv[0] = os.path.join(STANDIN, "docker-entrypoint.sh")
    # ConfigMap volumes, written as the kubelet would, and always read-only (as the kubelet mounts them)
    ro = []
    cms = {o["metadata"]["name"]: o.get("data", {}) for o in items if o.get("kind") == "ConfigMap"}
    vols = {v["name"]: v for v in pod.get("volumes", []) or []}
    for m in c.get("volumeMounts", []) or []:
        v = vols.get(m["name"], {})
        if "configMap" in v and v["configMap"].get("name") in cms:
            target = fix(m["mountPath"])
            shutil.rmtree(target, ignore_errors=True)
            os.makedirs(target)
            for k, data in cms[v["configMap"]["name"]].items():
                with open(os.path.join(target, k), "w") as f:
                    f.write(data)
            ro.append(target)
    if ro:
        mounts = " && ".join('mount --bind -o ro "%s" "%s"' % (d, d) for d in ro)
        argv = ["unshare", "-rm", "sh", "-c", mounts + ' && exec "$@"', "sh"] + argv
    p = subprocess.run(argv, env=env, cwd=home, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=180)
    launches = []
    if os.path.exists(record):
        with open(record, "rb") as f:
            parts = f.read().decode().split("\0")[:-1]
        cur = None
        for x in parts:
            if x == "--launch--":
                cur = []
                launches.append(cur)
            elif cur is not None:
                cur.append(x)
    elog = ""
    if os.path.exists(env["MATRIX_ENTRYPOINT_LOG"]):
        with open(env["MATRIX_ENTRYPOINT_LOG"]) as f:
            elog = f.read()
    return {"rc": p.returncode, "out": p.stdout, "launches": [l[1:] for l in launches], "home": home,
            "argv": argv, "entrypoint_log": elog}


MAIN_CLASSES = ("org.apache.flink.", )


def split_launch(argv):
    """JVM argv -> (jvm options, classpath, main class, program args)."""
    opts, cp, i = [], None, 0
    while i < len(argv):
        a = argv[i]
        if a in ("-cp", "-classpath", "--class-path"):
            cp = argv[i + 1]
            i += 2
            continue
        if a.startswith("-"):
            opts.append(a)
            i += 1
            continue
        return opts, cp, a, argv[i + 1:]
    return opts, cp, None, []


def mem_flags(opts):
    out = {}
    for o in opts:
        for pre in ("-Xmx", "-Xms", "-XX:MaxDirectMemorySize=", "-XX:MaxMetaspaceSize="):
            if o.startswith(pre):
                out[pre.rstrip("=")] = o[len(pre):]
    return out


# --- the oracle for memory flags ---------------------------------------------------------------
def intended_memory(version, role, mib):
    """(key, value) the spec's memory means for that version, written into a conf file. Flink's own
    container cutoff (containerized.heap-cutoff-ratio 0.25, min 600 MB) before FLIP-49."""
    if role == "jobmanager":
        if vt(version) >= (1, 11):
            return "jobmanager.memory.process.size", "%dm" % mib
        return "jobmanager.heap.size", "%dm" % (mib - max(600, int(mib * 0.25)))
    if vt(version) >= (1, 10):
        return "taskmanager.memory.process.size", "%dm" % mib
    return "taskmanager.heap.size", "%dm" % (mib - max(600, int(mib * 0.25)))


ORACLE = {}


def oracle_flags(version, script, key, value, work):
    ck = (version, script, key, value)
    if ck in ORACLE:
        return ORACLE[ck]
    tag = "oracle-%s-%s" % (script, value)
    home = flink_home(version, os.path.join(work, tag, "flink"), False)
    conf = os.path.join(home, "conf", "config.yaml" if os.path.exists(os.path.join(home, "conf", "config.yaml"))
                        and not os.path.exists(os.path.join(home, "conf", "flink-conf.yaml")) else "flink-conf.yaml")
    with open(conf) as f:
        text = f.read()
    if conf.endswith("config.yaml"):
        # standard YAML: nested stock entries for the memory keys; drop the stock jobmanager/taskmanager
        # memory.process.size lines by their leaf and add the flat key (valid in config.yaml)
        text = re.sub(r"(?m)^(\s+)process:\n\s+size: .*\n", "", text)
    else:
        text = re.sub(r"(?m)^%s:.*\n" % re.escape(key), "", text)
    with open(conf, "w") as f:
        f.write(text + "\n%s: %s\n" % (key, value))
    record = os.path.join(work, tag, "launch.rec")
    env = base_env(home, record, "oracle")
    p = subprocess.run([os.path.join(home, "bin", script + ".sh"), "start-foreground"] +
                       (["--job-classname", "x.Y"] if script == "standalone-job" else []),
                       env=env, cwd=home, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=180)
    flags = None
    if os.path.exists(record):
        with open(record, "rb") as f:
            parts = f.read().decode().split("\0")[:-1]
        flags = mem_flags(split_launch(parts[2:])[0])
    ORACLE[ck] = (flags, p.stdout[-800:])
    return ORACLE[ck]


def mib_of(q):
    m = re.fullmatch(r"(\d+)(Mi|Gi)", q)
    return int(m.group(1)) * (1024 if m.group(2) == "Gi" else 1)


# --- per version ----------------------------------------------------------------------------------
EXPECT_MAIN = {
    "job": ("org.apache.flink.container.entrypoint.StandaloneJobClusterEntryPoint",
            "org.apache.flink.container.entrypoint.StandaloneApplicationClusterEntryPoint"),
    "session": ("org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",),
    "taskmanager": ("org.apache.flink.runtime.taskexecutor.TaskManagerRunner",),
}


def compile_tool(version, work):
    dist = glob.glob(os.path.join(CACHE, "flink-" + version, "lib", "flink-dist*-%s.jar" % version))[0]
    out = os.path.join(work, "tool")
    os.makedirs(out, exist_ok=True)
    subprocess.run(["javac", "-nowarn", "-d", out, "-cp", dist, os.path.join(HERE, "tools", "EntrypointArgs.java")],
                   check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    return out


def parse_batch(version, tool, tasks, work):
    """tasks: [(kind, program args)] -> [parsed dict]; one JVM for all of a version's processes."""
    argv = []
    outs = []
    for i, (kind, args) in enumerate(tasks):
        a = os.path.join(work, "parse-%d.argv" % i)
        with open(a, "wb") as f:
            f.write(b"".join(x.encode() + b"\0" for x in args))
        o = os.path.join(work, "parse-%d.json" % i)
        outs.append(o)
        argv += [kind, a, o]
    lib = sorted(glob.glob(os.path.join(CACHE, "flink-" + version, "lib", "*.jar")))
    subprocess.run([REAL_JAVA, "-cp", ":".join([tool] + lib), "EntrypointArgs"] + argv,
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    res = []
    for o in outs:
        try:
            with open(o) as f:
                res.append(json.load(f))
        except (OSError, ValueError) as e:
            res.append({"error": "no parser output: %s" % e})
    return res


def apply_break(items):
    """FLINK_MATRIX_BREAK: break the rendered output as a buggy renderer would (README)."""
    for o, _pod, c in workloads(items):
        args = c.get("args") or []
        if BREAK == "job-args-unseparated" and "--" in args and c["name"] == "jobmanager":
            args.remove("--")
        elif BREAK == "drop-option" and c["name"] == "taskmanager":
            c["args"] = [a for a in args if "execution.checkpointing.interval" not in a]
        elif BREAK == "memory" and c["name"] == "jobmanager":
            c["args"] = [re.sub(r"(jobmanager\.(memory\.process|heap)\.size=)\d+m", r"\g<1>1200m", a) for a in args]
        elif BREAK == "savepoint" :
            c["args"] = [a.replace("savepoint-0a1b2c", "savepoint-other") for a in args]


def run_version(version):
    t0 = time.time()
    work = tempfile.mkdtemp(prefix="flink-matrix-%s-" % version, dir=os.environ.get("FLINK_MATRIX_WORK"))
    try:
        tool = compile_tool(version, work)
    except Exception as e:  # noqa: BLE001
        check(version, "compile EntrypointArgs against flink-dist", False, str(e))
        return
    jobs = []   # (spec name, role, kind, spec, container result)
    for name in ("job.json", "session.json", "job-configmap.json", "job-script.json",
                 "session-ha.json", "job-ha.json"):
        spec = load_spec(name, version)
        sname = name[:-5]
        extra = ["--allow-savepoint-without-ha"] if spec["spec"].get("job", {}).get("fromSavepoint") else []
        if name == "job-script.json" and vt(version) < (1, 11):
            # up to 1.10 the JobManager heap is read from the conf file (or FLINK_JM_HEAP) only:
            # issue 15 item 5 allows carrying it or a refusal naming the version. A refusal
            # passes here and the rest of the spec runs without JobManager memory.
            rc, out, err = render(spec, version, work, sname + "-memory", extra)
            if rc != 0:
                check(version, "%s: JobManager memory in script mode refused naming %d.%d"
                      % (sname, *vt(version)), rc == 1 and not out.strip() and ("%d.%d" % vt(version)) in err,
                      "exit %d: %s" % (rc, err.strip()[-200:]))
                del spec["spec"]["jobManager"]["resources"]
        extra = ["--allow-savepoint-without-ha"] if spec["spec"].get("job", {}).get("fromSavepoint") else []
        rc, out, err = render(spec, version, work, sname, extra)
        if not check(version, "%s: kubectl-flink render exits 0" % sname, rc == 0, err.strip()[-400:]):
            continue
        items = json.loads(out)["items"]
        apply_break(items)
        image = spec["spec"].get("entrypoint", "image") == "image"
        for obj, pod, c in workloads(items):
            role = c["name"]
            kind = "taskmanager" if role == "taskmanager" else ("session" if spec["kind"] == "FlinkSessionCluster" else "job")
            r = run_container(version, items, obj, pod, c, work, "%s-%s" % (sname, role), image)
            jobs.append((sname, role, kind, spec, r, c))
    # the memory thresholds: at the threshold the render works and the script's calculation passes;
    # one MiB below kubectl-flink must refuse
    thr = []
    if vt(version) >= (1, 11):
        thr.append(("jobManager", "jobmanager", JM_MIN_MIB))
    if vt(version) >= (1, 10):
        thr.append(("taskManager", "taskmanager", TM_MIN_MIB))
    for field, role, mib in thr:
        spec = load_spec("job.json", version)
        spec["spec"][field]["resources"]["memory"] = "%dMi" % mib
        rc, out, err = render(spec, version, work, "thr-%s" % role, ["--allow-savepoint-without-ha"])
        if check(version, "memory threshold: %s %dMi renders" % (role, mib), rc == 0, err.strip()[-300:]):
            items = json.loads(out)["items"]
            for obj, pod, c in workloads(items):
                if c["name"] == role:
                    r = run_container(version, items, obj, pod, c, work, "thr-%s" % role, True)
                    check(version, "memory threshold: %s %dMi accepted by the version's memory calculation" % (role, mib),
                          r["rc"] == 0 and len(r["launches"]) == 1, tail(r))
        spec["spec"][field]["resources"]["memory"] = "%dMi" % (mib - 1)
        rc, out, err = render(spec, version, work, "below-%s" % role, ["--allow-savepoint-without-ha"])
        check(version, "memory threshold: %s %dMi (below) refused by kubectl-flink with exit 1" % (role, mib - 1),
              rc == 1 and not out.strip() and "memory" in err.lower(), "exit %d: %s" % (rc, err.strip()[-200:]))

    # parse every launch in one JVM
    tasks, idx = [], []
    for i, (sname, role, kind, spec, r, c) in enumerate(jobs):
        if len(r["launches"]) == 1:
            _o, _cp, _main, prog = split_launch(r["launches"][0])
            tasks.append((kind, prog))
            idx.append(i)
    parsed = dict(zip(idx, parse_batch(version, tool, tasks, work))) if tasks else {}

    for i, (sname, role, kind, spec, r, c) in enumerate(jobs):
        pre = "%s %s" % (sname, role)
        if not check(version, pre + ": the process starts (one JVM launch, scripts exit 0)",
                     r["rc"] == 0 and len(r["launches"]) == 1, tail(r)):
            continue
        opts, _cp, main, prog = split_launch(r["launches"][0])
        check(version, pre + ": main class", main in EXPECT_MAIN[kind], "%s, expected %s" % (main, " or ".join(EXPECT_MAIN[kind])))
        p = parsed.get(i, {})
        if not check(version, pre + ": the entrypoint parser accepts the argv", "error" not in p,
                     "%s %s; program args %s" % (p.get("error"), p.get("cause", ""), prog)):
            continue
        eff = p["effective"]
        s = spec["spec"]
        expect = {}
        for k, v in s.get("flinkConfiguration", {}).items():
            if not k.startswith("env.java.opts"):
                expect[k] = str(v)
        if role == "jobmanager" and kind == "job":
            expect["parallelism.default"] = str(s["job"].get("parallelism", 1))
        if role == "taskmanager":
            expect["taskmanager.numberOfTaskSlots"] = str(s.get("taskManager", {}).get("slots", 1))
        for k, v in sorted(expect.items()):
            check(version, pre + ": option %s=%s in the effective configuration" % (k, v),
                  eff.get(k) == v, "got %r" % eff.get(k))
        if s.get("savepointDir") and role == "jobmanager":   # only the JobManager takes savepoints
            keys = ["state.savepoints.dir", "execution.checkpointing.savepoint-dir"]
            got = [eff.get(k) for k in keys if eff.get(k) is not None]
            check(version, pre + ": savepoint dir %s in the effective configuration" % s["savepointDir"],
                  s["savepointDir"] in got, "got %s" % {k: eff.get(k) for k in keys})
        # What the stock configuration sets and the code default does not (audit row 5): the
        # image keeps it, and a mounted configuration must too.
        if role == "jobmanager":
            check(version, pre + ": jobmanager.execution.failover-strategy is the stock region",
                  eff.get("jobmanager.execution.failover-strategy") == "region",
                  "got %r" % eff.get("jobmanager.execution.failover-strategy"))
        # Every process listens on all interfaces and never advertises localhost (audit row 11:
        # from 1.15 the stock configuration pins them; only the official image rewrites them).
        binds = ("jobmanager.bind-host", "rest.bind-address") if role == "jobmanager" else ("taskmanager.bind-host",)
        for k in binds:
            check(version, pre + ": %s listens on all interfaces" % k,
                  eff.get(k) in (None, "0.0.0.0"), "got %r" % eff.get(k))
        if role == "taskmanager":
            check(version, pre + ": taskmanager.host is not localhost",
                  eff.get("taskmanager.host") != "localhost", "got %r" % eff.get("taskmanager.host"))
        # The logging file the JVM is pointed at is in the syntax of the log4j the version ships
        # (audit row 4: log4j 1 up to 1.10, log4j 2 from 1.11).
        log_file = next((o.split("=file:", 1)[1] for o in opts
                         if o.startswith("-Dlog4j.configuration=file:")), None)
        if log_file and os.path.isfile(log_file):
            text = open(log_file).read()
            log4j1 = vt(version) < (1, 11)
            want = "log4j.rootLogger=" if log4j1 else "rootLogger."
            check(version, pre + ": %s is log4j %d syntax" % (os.path.basename(log_file), 1 if log4j1 else 2),
                  want in text and (log4j1 or "log4j.rootLogger" not in text), log_file)
        else:
            check(version, pre + ": the JVM is given a log4j configuration file", False, "%s" % log_file)
        ha = s.get("highAvailability")
        if ha:
            check_ha(version, pre, ha, eff, role)
        if not ha or role == "jobmanager":
            # With HA each JobManager advertises its pod IP; TaskManagers find the leader
            # through the HA services.
            want_addr = POD_IP if ha else obj_service(spec)
            check(version, pre + ": jobmanager.rpc.address is %s" % want_addr,
                  eff.get("jobmanager.rpc.address") == want_addr,
                  "got %r" % eff.get("jobmanager.rpc.address"))
        for k, v in s.get("flinkConfiguration", {}).items():
            if k.startswith("env.java.opts"):
                for tok in v.split():
                    check(version, pre + ": JVM option %s (from %s) in the JVM command" % (tok, k),
                          tok in opts, "JVM options: %s" % " ".join(opts))
        mem = s.get("jobManager" if role == "jobmanager" else "taskManager", {}).get("resources", {}).get("memory")
        if mem:
            script = {"job": "standalone-job", "session": "jobmanager", "taskmanager": "taskmanager"}[kind]
            key, value = intended_memory(version, role, mib_of(mem))
            want, otail = oracle_flags(version, script, key, value, work)
            got = mem_flags(opts)
            check(version, pre + ": memory flags for %s = %s (oracle: %s in the conf file)" % (mem, want, key + ": " + value),
                  want is not None and got == want, "got %s; oracle %s" % (got, want if want is not None else otail))
        if kind == "job":
            j = s["job"]
            check(version, pre + ": job class", p.get("jobClassName") == j.get("entryClass"), "got %r" % p.get("jobClassName"))
            check(version, pre + ": savepoint path", p.get("savepointPath") == j.get("fromSavepoint"), "got %r" % p.get("savepointPath"))
            check(version, pre + ": allowNonRestoredState", p.get("allowNonRestoredState") == bool(j.get("allowNonRestoredState")),
                  "got %r" % p.get("allowNonRestoredState"))
            check(version, pre + ": job args verbatim %s" % j.get("args", []), p.get("args") == j.get("args", []),
                  "got %r" % p.get("args"))
            check(version, pre + ": no job id", p.get("jobId") is None, "got %r" % p.get("jobId"))
    if os.environ.get("FLINK_MATRIX_KEEP") != "1" and all(ok for ok, v, *_ in RESULTS if v == version):
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("flink-matrix: %s work dir kept: %s" % (version, work), flush=True)
    print("flink-matrix: %s done in %.1f s" % (version, time.time() - t0), flush=True)


def check_ha(version, pre, ha, eff, role):
    """The spec's HA settings in the effective configuration of the version."""
    mode_keys = ("high-availability.type", "high-availability")
    mode = next((eff[k] for k in mode_keys if eff.get(k)), None)
    if ha["type"] == "zookeeper":
        check(version, pre + ": ZooKeeper HA switched on", mode == "zookeeper", "got %r" % mode)
        check(version, pre + ": ZooKeeper quorum", eff.get("high-availability.zookeeper.quorum")
              == ha["zookeeper"]["quorum"], "got %r" % eff.get("high-availability.zookeeper.quorum"))
        root = ha["zookeeper"].get("pathRoot")
        if root:
            check(version, pre + ": ZooKeeper path root", eff.get("high-availability.zookeeper.path.root")
                  == root, "got %r" % eff.get("high-availability.zookeeper.path.root"))
    else:
        check(version, pre + ": Kubernetes HA switched on",
              mode in ("kubernetes", "org.apache.flink.kubernetes.highavailability.KubernetesHaServicesFactory"),
              "got %r" % mode)
        check(version, pre + ": kubernetes.namespace is the pod's", eff.get("kubernetes.namespace")
              == POD_NAMESPACE, "got %r" % eff.get("kubernetes.namespace"))
    check(version, pre + ": HA storageDir", eff.get("high-availability.storageDir") == ha["storageDir"],
          "got %r" % eff.get("high-availability.storageDir"))
    if role == "jobmanager":
        check(version, pre + ": high-availability.jobmanager.port is 6123",
              eff.get("high-availability.jobmanager.port") == "6123",
              "got %r" % eff.get("high-availability.jobmanager.port"))


def obj_service(spec):
    return spec["metadata"]["name"] + "-jobmanager"


def tail(r):
    lines = [l for l in r.get("out", "").splitlines() if l.strip()]
    return "exit %s, %d launches; argv %s; last output: %s" % (
        r.get("rc"), len(r.get("launches", [])), " ".join(r.get("argv", []))[-300:], " | ".join(lines[-4:])[-600:])


def main():
    if BREAK:
        print("flink-matrix: FLINK_MATRIX_BREAK=%s: the rendered output is broken on purpose" % BREAK, flush=True)
    t0 = time.time()
    with cf.ThreadPoolExecutor(JOBS) as ex:
        for f in [ex.submit(run_version, v) for v in VERSIONS]:
            try:
                f.result()
            except Exception as e:  # noqa: BLE001
                check("?", "harness error", False, repr(e))
    failed = [r for r in RESULTS if not r[0]]
    if failed:
        print("\nfailed checks per version:")
        for v in VERSIONS:
            names = [n for ok, vv, n, _ in failed if vv == v]
            if names:
                print("  %s: %d: %s" % (v, len(names), "; ".join(names)))
    print("flink-matrix: harness %.1f s" % (time.time() - t0))
    print("%d passed, %d failed" % (len(RESULTS) - len(failed), len(failed)))
    sys.exit(1 if failed or not RESULTS else 0)


if __name__ == "__main__":
    main()
