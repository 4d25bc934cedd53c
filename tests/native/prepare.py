#!/usr/bin/env python3
"""Turn one scenario's kubectl-flink output into a case for Render.java.

usage: prepare.py ARGS_FILE OUT_DIR UID

Reads OUT_DIR/kf.json (`kubectl-flink render --phase all -o json`), writes kubectl-flink's
ConfigMaps as files (OUT_DIR/kf/conf/ stands for the JobManager pod's /opt/flink/conf,
OUT_DIR/kf/pod-template/ for /opt/flink/pod-template) and OUT_DIR/meta.json, and prints the
case as one JSON object: the Flink command line of ARGS_FILE (`@mode`, `@versions` and `#`
lines left out, one argument per line, `{pod_template}` replaced by OUT_DIR/spec/taskmanager-pod-template.yaml).

That template file is NOT kubectl-flink's: Render.java writes it from the scenario's own
`spec.taskManager.podTemplate` (the SPEC.yaml next to ARGS_FILE, read with Flink's YAML parser),
the way a user of Flink's client writes one by hand. Flink's side is thus built from the spec
and kubectl-flink's from its rendered ConfigMap, so a wrong translation of the template (a field
dropped or changed) shows up as a difference instead of being copied to both sides.
Python stdlib only.
"""
import json
import os
import sys


def main():
    args_file, out, uid = sys.argv[1:4]
    items = json.load(open(os.path.join(out, "kf.json"), encoding="utf-8"))["items"]
    for obj in items:
        if obj["kind"] != "ConfigMap":
            continue
        sub = "conf" if obj["metadata"]["name"].startswith("flink-config-") else "pod-template"
        os.makedirs(os.path.join(out, "kf", sub), exist_ok=True)
        for key, text in obj["data"].items():
            with open(os.path.join(out, "kf", sub, key), "w", encoding="utf-8") as f:
                f.write(text)
    deployment = next(o for o in items if o["kind"] == "Deployment")
    with open(os.path.join(out, "meta.json"), "w", encoding="utf-8") as f:
        json.dump({"name": deployment["metadata"]["name"], "uid": uid}, f)

    mode, args = None, []
    # Written by Render.java from the spec (see above), never from kubectl-flink's output.
    template = os.path.join(out, "spec", "taskmanager-pod-template.yaml")
    uses_template = False
    with open(args_file, encoding="utf-8") as f:
        for line in f.read().split("\n")[:-1]:
            if line.startswith("@mode "):
                mode = line[len("@mode "):]
            elif not line.startswith(("#", "@")):
                uses_template = uses_template or "{pod_template}" in line
                args.append(line.replace("{pod_template}", template))
    if mode not in ("session", "application"):
        sys.exit(f"{args_file}: needs `@mode session` or `@mode application`")
    name = os.path.basename(args_file)[: -len(".args")]
    case = {"name": name, "mode": mode, "args": args, "ownerUid": uid, "out": out,
            "kubectlFlink": os.path.join(out, "kf")}
    if uses_template:
        case["specPodTemplate"] = {"spec": args_file[: -len(".args")] + ".yaml", "file": template}
    print(json.dumps(case))


if __name__ == "__main__":
    main()
