#!/usr/bin/env python3
"""Lay out a Flink distribution from the two PyPI packages pip downloaded.

usage: flink_install.py DOWNLOAD_DIR DEST VERSION

- lib/, opt/, plugins/ and bin/bash-java-utils.jar come from ``apache-flink-libraries``
  (a wheel ``pyflink/...`` for 2.x, an sdist ``*/deps/...`` for 1.20.x);
- bin/*.sh and conf/ come from the ``apache-flink`` wheel (``pyflink/bin``, ``pyflink/conf``).

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


def extract_libraries(archive, stage):
    n = 0
    if archive.endswith(".whl") or archive.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                rel = _libraries_rel(info.filename)
                if rel and not info.is_dir():
                    _place(stage, rel, z.read(info), 0o755 if rel.endswith(".sh") else 0o644)
                    n += 1
    else:
        with tarfile.open(archive) as t:
            for m in t.getmembers():
                rel = _libraries_rel(m.name)
                if rel and m.isfile():
                    _place(stage, rel, t.extractfile(m).read(), 0o755 if rel.endswith(".sh") else 0o644)
                    n += 1
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


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    dl, dest, version = sys.argv[1:]
    files = os.listdir(dl)
    libs = [f for f in files if f.startswith("apache_flink_libraries-" + version)
            or f.startswith("apache-flink-libraries-" + version)]
    wheels = [f for f in files if f.startswith("apache_flink-" + version) and f.endswith(".whl")]
    if len(libs) != 1 or len(wheels) != 1:
        sys.exit("flink_install: expected one apache-flink-libraries and one apache-flink wheel for %s in %s, found %s"
                 % (version, dl, sorted(files)))
    stage = dest + ".staging-%d" % os.getpid()
    shutil.rmtree(stage, ignore_errors=True)
    try:
        n_lib = extract_libraries(os.path.join(dl, libs[0]), stage)
        n_bin = extract_scripts(os.path.join(dl, wheels[0]), stage)
        required = ["lib/flink-dist-%s.jar" % version, "bin/bash-java-utils.jar", "bin/config.sh",
                    "bin/standalone-job.sh", "bin/taskmanager.sh", "bin/flink-console.sh",
                    "conf/log4j-console.properties"]
        missing = [r for r in required if not os.path.isfile(os.path.join(stage, r))]
        if missing:
            sys.exit("flink_install: %s is missing %s" % (version, ", ".join(missing)))
        os.makedirs(os.path.join(stage, "log"), exist_ok=True)
        with open(os.path.join(stage, ".installed"), "w") as f:
            f.write(version + "\n")
        shutil.rmtree(dest, ignore_errors=True)
        os.rename(stage, dest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    print("flink_install: Flink %s in %s (%d library files, %d script/conf files)" % (version, dest, n_lib, n_bin))


if __name__ == "__main__":
    main()
