#!/usr/bin/env python3
"""Field-by-field comparison of kubectl-flink's native mode with Flink's own client.

usage: compare.py WORK_DIR

WORK_DIR/<version>/<scenario>/ holds, from scripts/native-compare:
  kf.json             kubectl-flink render --phase all --owner-uid UID -o json (a v1 List)
  flink-objects.json  Flink's JobManager Deployment + accompanying resources (Render.java)
  flink-config.json   Flink's flink-config ConfigMap as Flink's own loader reads it
  kf-config.json      kubectl-flink's flink-config ConfigMap, read by the same loader
  flink-tm-pod.json   the first TaskManager pod a JobManager with Flink's ConfigMaps creates
  kf-tm-pod.json      ... and with kubectl-flink's ConfigMaps (both built by Flink's code)
  flink-pod-template.json / kf-pod-template.json
                      the TaskManager pod template file of each side's pod-template ConfigMap, as
                      the Pod fabric8 parses it to (only where the scenario has a template; Flink's
                      file is written from the spec, not from kubectl-flink's output: prepare.py)
  meta.json           {"namespace": ..., "uid": ...}

Objects are matched by kind and name and must be equal field by field, except for this list of
intentional differences (each one is checked, not just skipped; README.md "Native mode" lists them):

  D1 namespace   kubectl-flink writes metadata.namespace on every object; Flink's client sets
                 it through its namespaced API client, so the objects it sends carry none.
                 Checked: equal to the namespace in Flink's configuration.
  D2 config file The configuration file is compared as Flink's GlobalConfiguration reads it
                 (key -> value), not as text: Flink writes keys in HashMap order (nested YAML
                 on 2.x), kubectl-flink sorted flat keys.
  D3 template    `kubernetes.pod-template-file.taskmanager`: Flink's client copies its local
     path        file path, kubectl-flink writes where the template is mounted in the
                 JobManager pod (the JobManager reads that file, not the option's value).
  D4 RBAC        kubectl-flink adds a ServiceAccount (unless the spec names one), a Role and a
                 RoleBinding, which Flink's client expects to exist; checked against the pods'
                 service account and what the JobManager does.
  D5 env order   Flink orders `containerized.*.env.*` variables as a HashMap iterates; kubectl-
                 flink sorts them by name. Compared as a set (TaskManager pods too).
  D6 -D order    The TaskManager start command's `-D` options come from a HashMap; compared as
                 a set of options.
  D7 template    The pod-template ConfigMap's file: Flink's client copies the user's file
     text        verbatim (here written from the spec's podTemplate), kubectl-flink writes its
                 own YAML. Compared as the Pod both parse to, field by field.

Exit 0 when every scenario matches. Python stdlib only.
"""
import json
import os
import sys

RBAC_KINDS = ("ServiceAccount", "Role", "RoleBinding")
TEMPLATE_KEY = "kubernetes.pod-template-file.taskmanager"
TEMPLATE_FILE = "taskmanager-pod-template.yaml"


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def diff(a, b, path, out):
    """Differences between two JSON values, as 'path: flink=... kubectl-flink=...' lines."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            sub = f"{path}.{key}" if path else key
            if key not in a:
                out.append(f"{sub}: only kubectl-flink has it: {json.dumps(b[key])[:200]}")
            elif key not in b:
                out.append(f"{sub}: only Flink has it: {json.dumps(a[key])[:200]}")
            else:
                diff(a[key], b[key], sub, out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} items from Flink, {len(b)} from kubectl-flink: "
                       f"flink={json.dumps(a)[:300]} kubectl-flink={json.dumps(b)[:300]}")
            return
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, f"{path}[{i}]", out)
    elif a != b:
        out.append(f"{path}: flink={json.dumps(a)[:300]} kubectl-flink={json.dumps(b)[:300]}")


def env_as_set(container, first_fixed):
    """D5: the plain-valued variables before `first_fixed` are sorted by name."""
    env = container.get("env") or []
    names = [e.get("name") for e in env]
    if first_fixed not in names:
        return
    cut = names.index(first_fixed)
    head = [e for e in env[:cut] if "valueFrom" not in e]
    if len(head) == cut:
        container["env"] = sorted(head, key=lambda e: e["name"]) + env[cut:]


def containers(obj):
    spec = obj.get("spec", {})
    pod = spec.get("template", {}).get("spec", spec)
    return pod.get("containers", [])


def dash_d_as_set(pod):
    """D6: the `kubernetes-taskmanager.sh -D…` command, its options sorted."""
    for c in containers(pod):
        args = c.get("args") or []
        if len(args) == 3 and args[2].startswith("kubernetes-taskmanager.sh "):
            tokens, rest = args[2].split(" ")[1:], []
            options, i = [], 0
            while i < len(tokens):
                if tokens[i] == "-D" and i + 1 < len(tokens):
                    options.append("-D " + tokens[i + 1])
                    i += 2
                elif tokens[i].startswith("-D"):
                    options.append(tokens[i])
                    i += 1
                else:
                    rest.append(tokens[i])
                    i += 1
            args[2] = "kubernetes-taskmanager.sh " + " ".join(sorted(options) + rest)


def check_rbac(rbac, objects, tm_pod, config, problems):
    """D4: the added RBAC matches the pods and covers what the JobManager does."""
    deployment = next((o for o in objects if o["kind"] == "Deployment"), None)
    if deployment is None:
        problems.append("no JobManager Deployment among kubectl-flink's objects")
        return
    account = deployment["spec"]["template"]["spec"].get("serviceAccountName")
    if tm_pod["spec"].get("serviceAccountName") != account:
        problems.append(f"TaskManager pods would run as {tm_pod['spec'].get('serviceAccountName')}, "
                        f"the JobManager as {account}")
    kinds = {o["kind"]: o for o in rbac}
    if "ServiceAccount" in kinds and kinds["ServiceAccount"]["metadata"]["name"] != account:
        problems.append(f"ServiceAccount {kinds['ServiceAccount']['metadata']['name']} is not the pods' {account}")
    binding, role = kinds.get("RoleBinding"), kinds.get("Role")
    if binding is None or role is None:
        problems.append("kubectl-flink renders no Role/RoleBinding")
        return
    subjects = [(s.get("kind"), s.get("name")) for s in binding.get("subjects", [])]
    if ("ServiceAccount", account) not in subjects:
        problems.append(f"RoleBinding does not bind {account}: {subjects}")
    if binding["roleRef"]["name"] != role["metadata"]["name"]:
        problems.append("RoleBinding does not refer to the Role")
    granted = set()
    for rule in role.get("rules", []):
        for group in rule.get("apiGroups", []):
            for resource in rule.get("resources", []):
                for verb in rule.get("verbs", []):
                    granted.add((group, resource, verb))
    needed = [("", "pods", v) for v in ("create", "delete", "get", "list", "watch")]
    needed += [("apps", "deployments", "get"), ("apps", "deployments", "delete")]
    if config.get("high-availability.type", config.get("high-availability")) == "kubernetes":
        needed += [("", "configmaps", v) for v in ("create", "delete", "get", "list", "update", "watch")]
    for need in needed:
        if need not in granted:
            problems.append(f"Role does not grant {need}")


def compare(case_dir):
    problems, allowed = [], set()
    if os.path.exists(os.path.join(case_dir, "error.txt")):
        with open(os.path.join(case_dir, "error.txt"), encoding="utf-8") as f:
            return [f"Flink's client failed:\n{f.read()[:3000]}"], allowed
    meta = load(os.path.join(case_dir, "meta.json"))
    kf = load(os.path.join(case_dir, "kf.json"))["items"]
    flink = load(os.path.join(case_dir, "flink-objects.json"))
    flink_config = load(os.path.join(case_dir, "flink-config.json"))
    kf_config = load(os.path.join(case_dir, "kf-config.json"))

    rbac = [o for o in kf if o["kind"] in RBAC_KINDS]
    ours = [o for o in kf if o["kind"] not in RBAC_KINDS]
    if rbac:
        allowed.add("D4")
    namespace = flink_config.get("kubernetes.namespace", "default")
    for o in kf:
        got = o["metadata"].pop("namespace", None)
        if got != namespace:
            problems.append(f"{o['kind']}/{o['metadata']['name']}: namespace {got!r}, Flink's configuration says {namespace!r}")
        allowed.add("D1")

    by_key = {(o["kind"], o["metadata"]["name"]): o for o in ours}
    for theirs in flink:
        key = (theirs["kind"], theirs["metadata"]["name"])
        mine = by_key.pop(key, None)
        if mine is None:
            problems.append(f"{key[0]}/{key[1]}: Flink creates it, kubectl-flink does not")
            continue
        if theirs["kind"] == "ConfigMap" and theirs["metadata"]["name"].startswith("flink-config-"):
            for data in (theirs["data"], mine["data"]):
                for name in ("config.yaml", "flink-conf.yaml"):
                    if name in data:
                        data[name] = f"<{name}, compared as Flink reads it>"
            allowed.add("D2")
        if theirs["kind"] == "ConfigMap" and theirs["metadata"]["name"].startswith("pod-template-"):
            for data in (theirs.get("data") or {}, mine.get("data") or {}):
                if TEMPLATE_FILE in data:
                    data[TEMPLATE_FILE] = f"<{TEMPLATE_FILE}, compared as the Pod it parses to>"
            allowed.add("D7")
        for obj in (theirs, mine):
            for c in containers(obj):
                env_as_set(c, "_POD_IP_ADDRESS")
        out = []
        diff(theirs, mine, "", out)
        problems.extend(f"{key[0]}/{key[1]}: {line}" for line in out)
    for kind, name in by_key:
        problems.append(f"{kind}/{name}: kubectl-flink renders it, Flink does not")

    # D2/D3: the configuration, key by key as Flink reads it.
    for config in (flink_config, kf_config):
        if TEMPLATE_KEY in config:
            config[TEMPLATE_KEY] = "<path>"
            allowed.add("D3")
    out = []
    diff(flink_config, kf_config, "config", out)
    problems.extend(out)

    # D7: the TaskManager pod template files, as the Pods fabric8 parses them to.
    templates = [os.path.join(case_dir, f"{side}-pod-template.json") for side in ("flink", "kf")]
    present = [os.path.exists(t) for t in templates]
    if present == [True, True]:
        out = []
        diff(load(templates[0]), load(templates[1]), "TaskManager pod template", out)
        problems.extend(out)
    elif present == [True, False]:
        problems.append("TaskManager pod template: Flink's JobManager has one, kubectl-flink's has none")
    elif present == [False, True]:
        problems.append("TaskManager pod template: kubectl-flink's JobManager has one, Flink's has none")

    # The JobManager kubectl-flink configures creates the same TaskManager pods as Flink's.
    tm_flink = load(os.path.join(case_dir, "flink-tm-pod.json"))
    tm_kf = load(os.path.join(case_dir, "kf-tm-pod.json"))
    check_rbac(rbac, kf, tm_kf, kf_config, problems)
    for pod in (tm_flink, tm_kf):
        for c in containers(pod):
            env_as_set(c, "_POD_NODE_ID")
        dash_d_as_set(pod)
    allowed.update(("D5", "D6"))
    out = []
    diff(tm_flink, tm_kf, "TaskManager pod", out)
    problems.extend(out)
    for o in ours:
        if o["kind"] != "Deployment":
            refs = o["metadata"].get("ownerReferences")
            want = [{"apiVersion": "apps/v1", "kind": "Deployment", "name": meta["name"], "uid": meta["uid"],
                     "controller": True, "blockOwnerDeletion": True}]
            if refs != want:
                problems.append(f"{o['kind']}/{o['metadata']['name']}: ownerReferences {refs}")
    return problems, allowed


def main():
    work = sys.argv[1]
    failed = 0
    total = 0
    for version in sorted(os.listdir(work)):
        vdir = os.path.join(work, version)
        if not os.path.isdir(vdir) or not version[0].isdigit():
            continue
        for scenario in sorted(os.listdir(vdir)):
            case = os.path.join(vdir, scenario)
            if not os.path.isdir(case):
                continue
            total += 1
            problems, allowed = compare(case)
            tag = f"Flink {version} {scenario}"
            if problems:
                failed += 1
                print(f"FAIL {tag}")
                for p in problems:
                    print(f"    {p}")
            else:
                print(f"ok   {tag} (equal except {', '.join(sorted(allowed))})")
    print(f"{total - failed} equal, {failed} different")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
