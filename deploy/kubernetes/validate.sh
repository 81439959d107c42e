#!/usr/bin/env bash
# Validate the manifests in this directory offline, against the Kubernetes
# OpenAPI schemas bundled in the PyPI package kubernetes-validate, in strict
# mode (unknown fields are errors), then check a few deployment policies.
#
#   bash deploy/kubernetes/validate.sh [DIR]
#
# Network is needed only to install kubernetes-validate when it is missing
# (from PyPI); the validation itself never goes online.
#
# Environment:
#   PYTHON       interpreter to use (default: python3)
#   K8S_VERSION  Kubernetes version to validate against (default: 1.31.0)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=$(cd "${1:-$here}" && pwd)
py=${PYTHON:-python3}
k8s_version=${K8S_VERSION:-1.31.0}
validator_req='kubernetes-validate==1.37.0'   # bundles schemas for Kubernetes 1.25 to 1.37

have_validator() { "$1" -c 'import kubernetes_validate' >/dev/null 2>&1; }

venv=${XDG_CACHE_HOME:-$HOME/.cache}/tradejob-validate-venv
if ! have_validator "$py"; then
    if have_validator "$venv/bin/python"; then
        py=$venv/bin/python          # installed by an earlier run
    else
        echo "installing $validator_req from PyPI (needs network once)" >&2
        if ! "$py" -m pip install --quiet --disable-pip-version-check "$validator_req" 2>/dev/null \
            || ! have_validator "$py"; then
            # An externally managed interpreter (PEP 668, e.g. Debian's) refuses
            # pip install: use a private virtual environment instead.
            echo "pip install into $py refused; using a virtual environment in $venv" >&2
            [ -x "$venv/bin/python" ] || "$py" -m venv "$venv" >&2
            "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$validator_req" >&2
            py=$venv/bin/python
        fi
    fi
fi

shopt -s nullglob
files=()
for f in "$dir"/*.yaml "$dir"/*.yml; do
    case "$(basename "$f")" in
        kustomization.yaml|kustomization.yml) ;;   # not a Kubernetes object
        *) files+=("$f") ;;
    esac
done
if [ ${#files[@]} -eq 0 ]; then
    echo "FAIL no manifests found in $dir" >&2
    exit 1
fi

"$py" - "$k8s_version" "$dir" "${files[@]}" <<'PY'
import json
import os
import sys

import yaml
import kubernetes_validate
from kubernetes_validate.utils import (
    InvalidSchemaError, SchemaNotFoundError, ValidationError, VersionNotSupportedError, validate)

version, directory, files = sys.argv[1], sys.argv[2], sys.argv[3:]
failed = False
docs = {}   # basename -> list of objects


def fail(line):
    global failed
    failed = True
    print("FAIL " + line)


# 1. Schema validation, strict, one line per file.
for path in files:
    name = os.path.basename(path)
    try:
        with open(path) as f:
            objects = [d for d in yaml.safe_load_all(f) if d]
    except yaml.YAMLError as e:
        fail("%s: not valid YAML: %s" % (name, str(e).replace("\n", " ")))
        continue
    docs[name] = objects
    if not objects:
        fail("%s: no object" % name)
        continue
    problems, kinds = [], []
    for obj in objects:
        what = "%s/%s" % (obj.get("kind", "?"), (obj.get("metadata") or {}).get("name", "?"))
        kinds.append(what)
        try:
            validate(obj, version, strict=True)
        except ValidationError as e:
            where = ".".join(str(p) for p in e.path) or "(top)"
            problems.append("%s: %s: %s" % (what, where, e.message))
        except (SchemaNotFoundError, InvalidSchemaError, VersionNotSupportedError) as e:
            problems.append("%s: %s" % (what, e.message))
        except Exception as e:  # e.g. no apiVersion/kind at all
            problems.append("%s: cannot validate: %r" % (what, e))
    if problems:
        fail("%s: %s" % (name, "; ".join(problems)))
    else:
        print("PASS %s: %s (Kubernetes %s, strict)" % (name, ", ".join(kinds), version))


# 2. Policy checks on the CronJob(s) and the migrate Job.
def of_kind(kind):
    return [(n, o) for n, objs in sorted(docs.items()) for o in objs if o.get("kind") == kind]


def pod_spec(obj):
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def containers(spec):
    return (spec.get("initContainers") or []) + (spec.get("containers") or [])


cronjobs, jobs = of_kind("CronJob"), of_kind("Job")
problems, images = [], {}
if not cronjobs:
    problems.append("no CronJob")
if not any(o["metadata"]["name"] == "tradejob-migrate" for _, o in jobs):
    problems.append("no Job tradejob-migrate")
try:
    for name, cj in cronjobs:
        who = "%s CronJob/%s" % (name, cj["metadata"]["name"])
        spec = cj.get("spec", {})
        if spec.get("concurrencyPolicy") != "Forbid":
            problems.append("%s: concurrencyPolicy is not Forbid" % who)
        if not spec.get("timeZone"):
            problems.append("%s: timeZone is not set" % who)
    for name, obj in cronjobs + jobs:
        who = "%s %s/%s" % (name, obj["kind"], obj["metadata"]["name"])
        ps = pod_spec(obj)
        if (ps.get("securityContext") or {}).get("runAsNonRoot") is not True:
            problems.append("%s: pod securityContext.runAsNonRoot is not true" % who)
        for c in containers(ps):
            if (c.get("securityContext") or {}).get("readOnlyRootFilesystem") is not True:
                problems.append("%s: container %s: readOnlyRootFilesystem is not true" % (who, c.get("name")))
            images.setdefault(c.get("image"), []).append("%s/%s" % (who, c.get("name")))
except (KeyError, TypeError, AttributeError) as e:
    problems.append("unexpected structure: %r" % e)
if len(images) > 1:
    problems.append("containers use different images: %s"
                    % "; ".join("%s in %s" % (i, ", ".join(w)) for i, w in sorted(images.items(), key=str)))
for name, cm in of_kind("ConfigMap"):
    for key, value in (cm.get("data") or {}).items():
        if key.endswith(".json"):
            try:
                json.loads(value)
            except ValueError as e:
                problems.append("%s ConfigMap/%s: %s is not valid JSON: %s" % (name, cm["metadata"]["name"], key, e))

# 3. The kustomization lists every manifest and nothing missing.
kpath = os.path.join(directory, "kustomization.yaml")
if os.path.exists(kpath):
    with open(kpath) as f:
        listed = set((yaml.safe_load(f) or {}).get("resources") or [])
    present = set(docs) | {os.path.basename(p) for p in files}
    for r in sorted(listed - present):
        problems.append("kustomization.yaml lists %s, which does not exist" % r)
    for r in sorted(present - listed):
        problems.append("kustomization.yaml does not list %s" % r)

if problems:
    for p in problems:
        fail("policy: " + p)
else:
    print("PASS policy: concurrencyPolicy Forbid, timeZone set, readOnlyRootFilesystem, runAsNonRoot, "
          "one image (%s), config JSON, kustomization complete" % next(iter(images)))

print("%s with kubernetes-validate %s" % ("FAILED" if failed else "OK", kubernetes_validate.__version__))
sys.exit(1 if failed else 0)
PY
