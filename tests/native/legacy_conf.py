#!/usr/bin/env python3
"""Write a Flink `config.yaml` (nested YAML, as the distribution ships it) as a legacy flat
`flink-conf.yaml`, so the comparison can run a Flink 1.x client the way kubectl-flink's native
mode renders 1.x clusters (`flink-conf.yaml` before Flink 2.0).

usage: legacy_conf.py CONFIG_YAML FLINK_CONF_YAML

Handles what the stock file holds: nested maps of plain scalars, two-space indentation, `#`
comments on their own lines. Anything else is an error. Python stdlib only.
"""
import sys


def flatten(lines):
    out, stack = [], []  # stack of (indent, key)
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        key, sep, value = line.strip().partition(":")
        if not sep or not key or key.startswith("-") or "#" in value:
            sys.exit(f"{number}: unsupported line: {line!r}")
        while stack and stack[-1][0] >= indent:
            stack.pop()
        value = value.strip()
        if value:
            out.append((".".join([k for _, k in stack] + [key]), value))
        else:
            stack.append((indent, key))
    return out


def main():
    src, dest = sys.argv[1:3]
    with open(src, encoding="utf-8") as f:
        pairs = flatten(f.readlines())
    with open(dest, "w", encoding="utf-8") as f:
        for key, value in pairs:
            f.write(f"{key}: {value}\n")


if __name__ == "__main__":
    main()
