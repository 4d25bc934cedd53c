#!/usr/bin/env python3
"""Find the smallest *.memory.process.size each Flink version's startup memory calculation accepts.

usage: memory_thresholds.py CACHE VERSION... > table

Runs that version's own BashJavaUtils exactly as its bin/config.sh does
(`java -classpath bin/bash-java-utils.jar:lib/flink-dist*.jar <BashJavaUtils> GET_{JM,TM}_RESOURCE_PARAMS
--configDir <stock conf> -D<key>=<N>m`), with the distribution's stock conf (every other setting
default), and binary-searches N in MiB. Accepted = exit 0 and a last line with the
BASH_JAVA_UTILS_EXEC_RESULT: prefix (what runBashJavaUtilsCmd/extractExecutionResults demand).
Python stdlib only; prints JSON lines {version, process, key, min_mib, error}.
"""
import glob
import json
import os
import subprocess
import sys
import concurrent.futures as cf


def vt(v):
    return tuple(int(x) for x in v.split(".")[:2])


def bash_java_utils(home, version):
    cls = "org.apache.flink.runtime.util.BashJavaUtils" if vt(version) < (1, 11) else \
        "org.apache.flink.runtime.util.bash.BashJavaUtils"
    dist = glob.glob(os.path.join(home, "lib", "flink-dist*-%s.jar" % version))[0]
    return cls, os.path.join(home, "bin", "bash-java-utils.jar") + ":" + dist


def run(home, version, cmd, key, mib):
    cls, cp = bash_java_utils(home, version)
    argv = ["java", "-classpath", cp, cls, cmd, "--configDir", os.path.join(home, "conf"),
            "-D%s=%dm" % (key, mib)]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    ok = p.returncode == 0 and bool(lines) and "BASH_JAVA_UTILS_EXEC_RESULT:" in "\n".join(lines[-3:])
    err = ""
    if not ok:
        ex = [l for l in lines if "Exception" in l and ":" in l]
        err = ex[-1].strip() if ex else (lines[-1] if lines else "exit %d" % p.returncode)
    return ok, err


def search(home, version, cmd, key, lo=1, hi=8192):
    ok, err = run(home, version, cmd, key, hi)
    if not ok:
        return None, err
    last_err = ""
    while lo < hi:
        mid = (lo + hi) // 2
        ok, err = run(home, version, cmd, key, mid)
        if ok:
            hi = mid
        else:
            lo = mid + 1
            last_err = err
    # the error text one MiB below the threshold
    _, below = run(home, version, cmd, key, lo - 1) if lo > 1 else (True, "")
    return lo, below or last_err


def one(cache, version, proc):
    home = os.path.join(cache, "flink-" + version)
    if proc == "jobmanager":
        if vt(version) < (1, 11):
            return None
        cmd, key = "GET_JM_RESOURCE_PARAMS", "jobmanager.memory.process.size"
    else:
        if vt(version) < (1, 10):
            return None
        cmd = "GET_TM_RESOURCE_JVM_PARAMS" if vt(version) < (1, 11) else "GET_TM_RESOURCE_PARAMS"
        key = "taskmanager.memory.process.size"
    n, err = search(home, version, cmd, key)
    return {"version": version, "process": proc, "key": key, "command": cmd, "min_mib": n, "error_below": err}


def main():
    cache, versions = sys.argv[1], sys.argv[2:]
    jobs = [(v, p) for v in versions for p in ("jobmanager", "taskmanager")]
    with cf.ThreadPoolExecutor(int(os.environ.get("FLINK_MATRIX_JOBS", "2"))) as ex:
        for r in ex.map(lambda j: one(cache, *j), jobs):
            if r:
                print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
