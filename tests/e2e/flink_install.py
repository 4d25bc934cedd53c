#!/usr/bin/env python3
"""Lay out a Flink distribution from the two PyPI packages pip downloaded.

usage: flink_install.py [--slim] DOWNLOAD_DIR DEST VERSION

Flink 1.13 and later (two packages):
- lib/, opt/, plugins/ and bin/bash-java-utils.jar come from ``apache-flink-libraries``
  (a wheel ``pyflink/...`` for 2.2+, an sdist ``*/deps/...`` for 1.13 ... 2.1);
- bin/*.sh and conf/ come from the ``apache-flink`` wheel (``pyflink/bin``, ``pyflink/conf``),
  whichever CPython tag pip found (1.13-1.18 have no cp311 wheel).
Flink 1.9 ... 1.12 (no ``apache-flink-libraries`` on PyPI): the ``apache-flink`` package carries
the whole distribution: an sdist ``apache-flink-V/deps/{bin,conf,lib,opt,plugins}`` (1.9, 1.10) or a
wheel ``pyflink/{bin,conf,lib,opt,plugins}`` (1.11, 1.12).

--slim (scripts/flink-matrix, for versions the real-Flink runs do not use) leaves out the
jars of opt/ other than the metrics reporters (file systems, python, sql client: 40-150 MB a
version) and lists their names in opt/.slim-omitted; .installed then says "VERSION slim", so
scripts/e2e-flink, which needs everything, installs such a version again in full.

DEST is written through a staging directory and renamed at the end, so an interrupted
install never leaves a half-filled DEST behind. Python stdlib only.
"""
import os
import shutil
import sys
import tarfile
import zipfile


def _place(dest_root, rel, data, mode):
    path = os.path.join(dest_root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def _full_rel(name):
    """Map a member of a full-distribution apache-flink package (1.9-1.12) to a FLINK_HOME path."""
    parts = name.split("/")
    if parts[0] == "pyflink":                      # 1.11/1.12 wheel
        rest = parts[1:]
    elif len(parts) > 2 and parts[1] == "deps":   # 1.9/1.10 sdist: apache-flink-V/deps/...
        rest = parts[2:]
    else:
        return None
    if not rest or not rest[-1] or rest[0] not in ("bin", "conf", "lib", "opt", "plugins"):
        return None
    if rest[0] == "bin" and (rest[-1].endswith(".py") or rest[-1].endswith(".pyc") or len(rest) > 2):
        return None
    return "/".join(rest)


def _slim_keep(rel):
    """--slim: keep everything but opt/ jars other than the metrics reporters."""
    if not rel.startswith("opt/"):
        return True
    return os.path.basename(rel).startswith("flink-metrics-")


def extract_full(archive, stage, slim):
    n, omitted = 0, []

    def put(rel, data_fn, mode):
        nonlocal n
        if slim and not _slim_keep(rel):
            omitted.append(rel[len("opt/"):])
            return
        if rel.startswith("bin/") and not rel.endswith(".bat") and not rel.endswith(".jar"):
            mode |= 0o755
        _place(stage, rel, data_fn(), mode)
        n += 1

    if archive.endswith(".whl") or archive.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                rel = _full_rel(info.filename)
                if rel and not info.is_dir():
                    put(rel, lambda: z.read(info), (info.external_attr >> 16) & 0o777 or 0o644)
    else:
        with tarfile.open(archive) as t:
            for m in t.getmembers():
                rel = _full_rel(m.name)
                if rel and m.isfile():
                    put(rel, lambda: t.extractfile(m).read(), (m.mode & 0o777) or 0o644)
    if omitted:
        _place(stage, "opt/.slim-omitted", ("\n".join(sorted(omitted)) + "\n").encode(), 0o644)
    return n


def _libraries_rel(name):
    """Map a member name of apache-flink-libraries to a FLINK_HOME-relative path, or None."""
    parts = name.split("/")
    if parts[0] == "pyflink":                      # 2.x wheel
        rest = parts[1:]
    elif len(parts) > 2 and parts[1] == "deps":   # 1.20.x sdist: apache_flink_libraries-V/deps/...
        rest = parts[2:]
    else:
        return None
    if not rest or not rest[-1]:
        return None
    if rest[0] in ("lib", "opt", "plugins"):
        return "/".join(rest)
    if rest == ["bin", "bash-java-utils.jar"]:
        return "bin/bash-java-utils.jar"
    return None


def extract_libraries(archive, stage, slim=False):
    n, omitted = 0, []
    if archive.endswith(".whl") or archive.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                rel = _libraries_rel(info.filename)
                if rel and not info.is_dir() and slim and not _slim_keep(rel):
                    omitted.append(rel[len("opt/"):])
                elif rel and not info.is_dir():
                    _place(stage, rel, z.read(info), 0o755 if rel.endswith(".sh") else 0o644)
                    n += 1
    else:
        with tarfile.open(archive) as t:
            for m in t.getmembers():
                rel = _libraries_rel(m.name)
                if rel and m.isfile() and slim and not _slim_keep(rel):
                    omitted.append(rel[len("opt/"):])
                elif rel and m.isfile():
                    _place(stage, rel, t.extractfile(m).read(), 0o755 if rel.endswith(".sh") else 0o644)
                    n += 1
    if omitted:
        _place(stage, "opt/.slim-omitted", ("\n".join(sorted(omitted)) + "\n").encode(), 0o644)
    return n


def extract_scripts(wheel, stage):
    n = 0
    with zipfile.ZipFile(wheel) as z:
        for info in z.infolist():
            name = info.filename
            if info.is_dir() or not (name.startswith("pyflink/bin/") or name.startswith("pyflink/conf/")):
                continue
            rel = name[len("pyflink/"):]
            mode = (info.external_attr >> 16) & 0o777 or 0o644
            if rel.startswith("bin/") and not rel.endswith(".bat") and not rel.endswith(".jar"):
                mode |= 0o755
            _place(stage, rel, z.read(info), mode)
            n += 1
    return n


def _version_tuple(version):
    return tuple(int(x) for x in version.split(".")[:2])


def main():
    args = sys.argv[1:]
    slim = bool(args) and args[0] == "--slim"
    if slim:
        args = args[1:]
    if len(args) != 3:
        sys.exit(__doc__)
    dl, dest, version = args
    files = os.listdir(dl)
    libs = [f for f in files if f.startswith("apache_flink_libraries-" + version)
            or f.startswith("apache-flink-libraries-" + version)]
    wheels = [f for f in files if f.startswith("apache_flink-" + version) and f.endswith(".whl")]
    sdists = [f for f in files if f in ("apache-flink-%s.tar.gz" % version, "apache_flink-%s.tar.gz" % version)]
    full = _version_tuple(version) < (1, 13)
    if full:
        # 1.9-1.12: one package with everything (a wheel for 1.11/1.12, an sdist for 1.9/1.10)
        if len(wheels) + len(sdists) != 1:
            sys.exit("flink_install: expected one apache-flink wheel or sdist for %s in %s, found %s"
                     % (version, dl, sorted(files)))
    elif len(libs) != 1 or len(wheels) != 1:
        sys.exit("flink_install: expected one apache-flink-libraries and one apache-flink wheel for %s in %s, found %s"
                 % (version, dl, sorted(files)))
    stage = dest + ".staging-%d" % os.getpid()
    shutil.rmtree(stage, ignore_errors=True)
    try:
        if full:
            n_lib = extract_full(os.path.join(dl, (wheels + sdists)[0]), stage, slim)
            n_bin = 0
        else:
            n_lib = extract_libraries(os.path.join(dl, libs[0]), stage, slim)
            n_bin = extract_scripts(os.path.join(dl, wheels[0]), stage)
        lib = os.listdir(os.path.join(stage, "lib")) if os.path.isdir(os.path.join(stage, "lib")) else []
        dist = [f for f in lib if f.startswith("flink-dist") and f.endswith("-%s.jar" % version)]
        required = ["bin/config.sh", "bin/standalone-job.sh", "bin/taskmanager.sh", "bin/jobmanager.sh",
                    "bin/flink-console.sh", "conf/log4j-console.properties"]
        if _version_tuple(version) >= (1, 10):   # BashJavaUtils (FLIP-49 memory) from 1.10
            required.append("bin/bash-java-utils.jar")
        missing = [r for r in required if not os.path.isfile(os.path.join(stage, r))]
        if not dist:
            missing.append("lib/flink-dist*-%s.jar" % version)
        if missing:
            sys.exit("flink_install: %s is missing %s" % (version, ", ".join(missing)))
        os.makedirs(os.path.join(stage, "log"), exist_ok=True)
        with open(os.path.join(stage, ".installed"), "w") as f:
            f.write(version + (" slim" if slim else "") + "\n")
        shutil.rmtree(dest, ignore_errors=True)
        os.rename(stage, dest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    print("flink_install: Flink %s in %s (%d library files, %d script/conf files%s)"
          % (version, dest, n_lib, n_bin, ", slim" if slim else ""))


if __name__ == "__main__":
    main()
