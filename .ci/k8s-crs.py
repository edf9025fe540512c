#!/usr/bin/env python3
"""Splits rendered manifests for offline validation (.ci/deploy-lint).

    k8s-crs.py RENDERED.yaml OUT_DIR

Built-in kinds go to OUT_DIR/builtin.yaml for kubernetes-validate. Every custom resource is
validated here against its schema vendored in k8s/schemas/<group>/<kind>_<version>.json,
strictly: an object schema that lists properties refuses any other (as kubeconform -strict
does); a custom resource without a vendored schema fails. The rule groups of every
PrometheusRule are written to OUT_DIR/rules-N.yaml for `promtool check rules`.
"""
import json
import pathlib
import sys

import jsonschema
import yaml

SCHEMAS = pathlib.Path(__file__).resolve().parent.parent / "k8s" / "schemas"


def strict(schema):
    if isinstance(schema, dict):
        if schema.get("type") == "object" and "properties" in schema and "additionalProperties" not in schema:
            schema = dict(schema, additionalProperties=False)
        return {k: strict(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


def main(rendered, out):
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    builtin, failures, checked, rules = [], [], 0, 0
    for doc in yaml.safe_load_all(pathlib.Path(rendered).read_text()):
        if not doc:
            continue
        group, _, version = doc["apiVersion"].rpartition("/")
        kind = doc["kind"]
        name = f'{kind}/{doc.get("metadata", {}).get("name")}'
        if "." not in group or group.endswith(".k8s.io"):  # core, apps, batch, networking.k8s.io…
            builtin.append(doc)
            continue
        path = SCHEMAS / group / f"{kind.lower()}_{version}.json"
        if not path.exists():
            failures.append(f"{name}: no schema at {path.relative_to(SCHEMAS.parent.parent)}")
            continue
        validator = jsonschema.Draft7Validator(strict(json.loads(path.read_text())))
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        failures += [f'{name}: {"/".join(map(str, e.absolute_path))}: {e.message}' for e in errors]
        checked += 1
        if kind == "PrometheusRule":
            rules += 1
            (out / f"rules-{rules}.yaml").write_text(yaml.safe_dump({"groups": doc["spec"]["groups"]}))
    (out / "builtin.yaml").write_text(yaml.safe_dump_all(builtin))
    for failure in failures:
        print(f"  INVALID {failure}", file=sys.stderr)
    print(f"  {checked} custom resources valid against k8s/schemas, {rules} rule files for promtool")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
