#!/usr/bin/env python3
"""Checks of the workflow files that need no workflow engine (Nextflow cannot run everywhere).

    python3 pipelines/lint.py [--snakemake PATH]

1. Each tool runs the same command in pipelines/Makefile, the Snakefile and its Nextflow module
   (each command read from its file, its variables renamed to one vocabulary).
2. With Snakemake at hand (--snakemake, or on PATH), the dry runs of the Makefile and the
   Snakefile for one sample setting print the very same command lines.
3. Every Nextflow module follows the nf-core conventions: meta maps in and out, task.ext.args,
   -t ${task.cpus}, a label defined in conf/base.config, versions.yml, stub:, when:, the
   container of the Dockerfile, a meta.yml naming the same inputs; main.nf includes them all.
4. nextflow_schema.json is a valid JSON Schema whose parameters and defaults are exactly those of
   nextflow.config's params block; the profiles exist; the Snakemake settings (config.yaml)
   are the Nextflow parameters under the same names.
5. The Dockerfile installs every system package that Package.swift, the Makefile and .ci/run
   name, builds the way the Makefile does, installs every executable product, and uses a Swift
   at least as new as Package.swift's tools version.
Exit 0 when all hold, else 1 with one line per problem.
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TOOLS = ["tokenize", "embed", "frames cat", "graphify", "score"]
MODULES = {"tokenize": "tokenize", "embed": "embed", "frames cat": "framescat",
           "graphify": "graphify", "score": "score"}
problems = []


def fail(msg):
    problems.append(msg)


def read(path):
    return (ROOT / path).read_text(encoding="utf-8")


def one_line(tool, lines, prefix):
    """The one line of `lines` that runs `tool` (not its --version)."""
    hits = [l.strip() for l in lines
            if l.strip().startswith(prefix + tool + " ") and "--version" not in l]
    if len(hits) != 1:
        fail(f"{tool}: expected one command line starting {prefix + tool!r}, found {len(hits)}")
        return None
    return hits[0][len(prefix):]


# 1. The commands, renamed to one vocabulary: {data} {vocab} … {threads} {out}.

def make_commands():
    lines = read("pipelines/Makefile").splitlines()
    first = {"embed": "cells", "graphify": "genes", "score": "model"}
    out = {}
    for tool in TOOLS:
        c = one_line(tool, lines, "$(TOOL)")
        if c is None:
            continue
        c = c.replace("$(filter %.sgrf,$^)", "{genes}").replace("$<", "{%s}" % first.get(tool, "?"))
        c = c.replace("$*", "{shard}").replace("$@", "{out}")
        c = re.sub(r"\$\((SHARD_)?THREADS\)", "{threads}", c)
        out[tool] = re.sub(r"\$\(([A-Z_]+)\)", lambda m: "{%s}" % m[1].lower(), c)
    return out


def snakemake_commands():
    lines = [l.strip().strip('"') for l in read("pipelines/Snakefile").splitlines()]
    out = {}
    for tool in TOOLS:
        c = one_line(tool, lines, "{params.bin}")
        if c is None:
            continue
        if not c.endswith(" 2> {log}"):
            fail(f"Snakefile: {tool} does not write its messages to {{log}}")
        c = c.removesuffix(" 2> {log}").replace("{output.edges}", "{out}").replace("{output}", "{out}")
        out[tool] = re.sub(r"\{(?:params|input|wildcards)\.([a-z_]+)\}", r"{\1}", c)
    return out


def nextflow_commands():
    out = {}
    for tool in TOOLS:
        lines = read(f"pipelines/modules/local/scgrn/{MODULES[tool]}/main.nf").splitlines()
        c = one_line(tool, lines, "")
        if c is None:
            continue
        c = c.replace("${task.cpus}", "{threads}").replace("${args}", "{%s_args}" % tool)
        out[tool] = re.sub(r"\$\{(?:meta\.)?([a-z_]+)\}", r"{\1}", c)
    return out


def check_commands():
    make, smk, nf = make_commands(), snakemake_commands(), nextflow_commands()
    for tool in TOOLS:
        if make.get(tool) != smk.get(tool):
            fail(f"{tool}: the Snakefile runs {smk.get(tool)!r}, the Makefile {make.get(tool)!r}")
        if make.get(tool) != nf.get(tool):
            fail(f"{tool}: the Nextflow module runs {nf.get(tool)!r}, the Makefile {make.get(tool)!r}")
        if make.get(tool) and "-t {threads}" not in make[tool]:
            fail(f"{tool}: no -t {{threads}}")


# 2. Dry runs of the Makefile and the Snakefile for one sample setting.

def check_dry_runs(snakemake):
    fx = "Tests/Fixtures/beeline/hHEP_TFs500_Specific_sample1"
    settings = {
        "data": f"{fx}/ExpressionData.csv.gz", "vocab": "models/default/genes.txt",
        "model": "models/default/model.safetensors", "prior": f"{fx}/Train.tsv",
        "train": f"{fx}/Train.tsv", "valid": f"{fx}/Valid.tsv", "pairs": f"{fx}/Test.tsv",
        "truth": f"{fx}/Test.tsv", "shards": "3", "tokenize_args": "--input-scale log2",
        "embed_args": "--genes dataset", "graphify_args": "--epochs 2 --seed 8",
        "score_args": "--top 100",
    }
    with tempfile.TemporaryDirectory() as tmp:
        out = f"{tmp}/run"
        make = subprocess.run(
            ["make", "-s", "-n", "-B", "-f", "pipelines/Makefile", "BIN=bin/", f"OUT={out}",
             "SHARD_THREADS=1", "THREADS=1"] + [f"{k.upper()}={v}" for k, v in settings.items()],
            cwd=ROOT, capture_output=True, text=True)
        smk = subprocess.run(
            [snakemake, "-s", "pipelines/Snakefile", "--cores", "1", "-n", "-p", "--forceall",
             "--config", "bin=bin", f"out={out}"] + [f"{k}={v}" for k, v in settings.items()],
            cwd=ROOT, capture_output=True, text=True)
    for name, r in (("make -n", make), ("snakemake -n", smk)):
        if r.returncode != 0:
            fail(f"{name} failed: {(r.stdout + r.stderr).strip()[-600:]}")
            return
    tool_line = re.compile(r"^bin/(tokenize|embed|frames|graphify|score) ")
    make_cmds = sorted(l.strip() for l in make.stdout.splitlines() if tool_line.match(l.strip()))
    smk_cmds = sorted(re.sub(r" 2> \S+$", "", l.split("Shell command: ", 1)[1]).strip()
                      for l in smk.stdout.splitlines() if l.startswith("Shell command: bin/"))
    if len(make_cmds) != 3 + 3 + 3:
        fail(f"make -n: expected 9 tool commands for 3 shards, got {len(make_cmds)}")
    for a, b in zip(make_cmds, smk_cmds):
        if a != b:
            fail(f"dry runs differ:\n  make:      {a}\n  snakemake: {b}")
    if len(make_cmds) != len(smk_cmds):
        fail(f"dry runs differ in length: make {len(make_cmds)}, snakemake {len(smk_cmds)}")


# 3. The Nextflow modules.

def block(text, name):
    """The text of the `name:` section of a process (up to the next section)."""
    m = re.search(rf"^\s*{name}:\s*\n(.*?)(?=^\s*(?:input|output|when|script|stub|exec):\s*$|\Z)",
                  text, re.S | re.M)
    return m[1] if m else None


def check_modules(container):
    labels = set(re.findall(r"withLabel:\s*(\w+)", read("pipelines/conf/base.config")))
    main = read("pipelines/main.nf")
    modules_config = read("pipelines/conf/modules.config")
    for tool, mod in MODULES.items():
        path = f"pipelines/modules/local/scgrn/{mod}/main.nf"
        text = read(path)
        proc = f"SCGRN_{mod.upper()}"
        if not re.search(rf"^process {proc} \{{", text, re.M):
            fail(f"{path}: no process {proc}")
        if f"include {{ {proc}" not in main and not re.search(rf"include \{{ {proc}\s+\}} from './modules/local/scgrn/{mod}/main'", main):
            fail(f"main.nf does not include {proc} from its module")
        label = re.search(r"^\s*label '(\w+)'", text, re.M)
        if not label or label[1] not in labels:
            fail(f"{path}: label {label[1] if label else None} is not defined in conf/base.config")
        m = re.search(r"^\s*container '([^']+)'", text, re.M)
        if not m or m[1] != container:
            fail(f"{path}: container {m[1] if m else None}, but the image is {container}")
        inputs, outputs = block(text, "input"), block(text, "output")
        if not inputs or not re.match(r"\s*tuple val\(meta\), path\(", inputs):
            fail(f"{path}: the first input is not tuple val(meta), path(...)")
        if not outputs or not re.search(r"tuple val\(meta\), path\(", outputs):
            fail(f"{path}: no output tuple val(meta), path(...)")
        if not outputs or not re.search(r'path "versions.yml"\s*,\s*emit: versions', outputs):
            fail(f"{path}: no versions.yml output (emit: versions)")
        when = block(text, "when")
        if not when or "task.ext.when == null || task.ext.when" not in when:
            fail(f"{path}: no when: task.ext.when")
        script, stub = block(text, "script"), block(text, "stub")
        if not script or "-t ${task.cpus}" not in script:
            fail(f"{path}: the script does not pass -t ${{task.cpus}}")
        if not script or f'"${{task.process}}":' not in script or f"scgrn: \\$({tool.split()[0]} --version)" not in script:
            fail(f"{path}: the script does not write versions.yml with {tool.split()[0]} --version")
        if not stub or "versions.yml" not in stub:
            fail(f"{path}: no stub: block writing versions.yml")
        if tool != "frames cat":
            if not script or "task.ext.args" not in script:
                fail(f"{path}: the script does not read task.ext.args")
            if not re.search(rf"withName: '{proc}' \{{[^}}]*ext\.args\s*=\s*\{{ params\.{tool}_args", modules_config):
                fail(f"conf/modules.config: no ext.args from params.{tool}_args for {proc}")
        meta_yml = ROOT / f"pipelines/modules/local/scgrn/{mod}/meta.yml"
        if not meta_yml.exists():
            fail(f"{path}: no meta.yml beside it")
        elif inputs:
            names = re.findall(r"(?:val|path)\((\w+)", inputs) + re.findall(r"^\s*path (\w+)", inputs, re.M)
            documented = re.findall(r"^  - (\w+):", meta_yml.read_text().split("\ninput:")[-1].split("\noutput:")[0], re.M)
            if sorted(names) != sorted(documented):
                fail(f"{meta_yml.relative_to(ROOT)}: inputs {documented}, the module has {names}")


# 4. Parameters, schema, profiles, Snakemake settings.

def groovy_value(v):
    v = v.strip()
    if v == "null":
        return None
    if re.fullmatch(r"-?\d+", v):
        return int(v)
    if v in ("true", "false"):
        return v == "true"
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
        return v[1:-1]
    return v


def check_params():
    config = read("pipelines/nextflow.config")
    m = re.search(r"^params \{\n(.*?)^\}", config, re.S | re.M)
    params = {k: groovy_value(v) for k, v in re.findall(r"^\s*(\w+)\s*=\s*(.+?)\s*$", m[1], re.M)} if m else {}
    try:
        schema = json.loads(read("pipelines/nextflow_schema.json"))
    except json.JSONDecodeError as e:
        fail(f"nextflow_schema.json is not JSON: {e}")
        return params
    try:
        import jsonschema
        jsonschema.Draft202012Validator.check_schema(schema)
        jsonschema.Draft202012Validator(schema).validate({k: v for k, v in params.items() if v is not None} | {
            k: "x" for k in ("data", "vocab", "model", "prior")})
    except ImportError:
        print("lint: jsonschema not installed; schema checked as JSON only", file=sys.stderr)
    except jsonschema.exceptions.SchemaError as e:
        fail(f"nextflow_schema.json is not a valid JSON Schema: {e.message}")
    except jsonschema.exceptions.ValidationError as e:
        fail(f"nextflow.config's defaults do not satisfy nextflow_schema.json: {e.message}")
    groups = schema.get("$defs", {})
    props = {k: v for g in groups.values() for k, v in g.get("properties", {}).items()}
    refs = {r["$ref"].split("/")[-1] for r in schema.get("allOf", [])}
    if refs != set(groups):
        fail(f"nextflow_schema.json: allOf refers to {sorted(refs)}, $defs has {sorted(groups)}")
    if set(props) != set(params):
        fail(f"nextflow_schema.json and nextflow.config differ: only in the schema "
             f"{sorted(set(props) - set(params))}, only in params {sorted(set(params) - set(props))}")
    for k, p in props.items():
        if k in params and p.get("default") != params[k]:
            fail(f"--{k}: default {p.get('default')!r} in the schema, {params[k]!r} in nextflow.config")
    for profile in ("docker", "singularity", "apptainer", "podman", "local", "slurm", "awsbatch", "googlebatch", "test"):
        if not re.search(rf"^    {profile} \{{", config, re.M):
            fail(f"nextflow.config: no profile {profile}")
    test = read("pipelines/conf/test.config")
    for k in re.findall(r"^    (\w+)\s*=", test.split("process")[0], re.M):
        if k not in params:
            fail(f"conf/test.config sets --{k}, which is not a parameter")
    for f in ROOT.joinpath("pipelines").rglob("*.config"):
        for ref in re.findall(r"params\.(\w+)", f.read_text()):
            if ref not in params:
                fail(f"{f.relative_to(ROOT)} uses params.{ref}, which is not a parameter")
    for f in [ROOT / "pipelines/main.nf"]:
        for ref in re.findall(r"params\.(\w+)", f.read_text()):
            if ref not in params:
                fail(f"main.nf uses params.{ref}, which is not a parameter")
    # The Snakemake settings are the Nextflow parameters (out ↔ outdir; bin has no counterpart).
    smk_keys = set(re.findall(r"^(\w+):", read("pipelines/config.yaml"), re.M))
    snakefile = read("pipelines/Snakefile")
    known = set(re.findall(r'"(\w+)":', snakefile.split("DEFAULTS = {", 1)[1].split("}", 1)[0]))
    known |= set(re.findall(r'"(\w+)"', snakefile.split("REQUIRED = (", 1)[1].split(")", 1)[0]))
    if smk_keys != known:
        fail(f"config.yaml and the Snakefile differ: {sorted(smk_keys ^ known)}")
    mapped = {"out": "outdir"}
    for k in smk_keys - {"bin"}:
        if mapped.get(k, k) not in params:
            fail(f"Snakemake setting {k} has no Nextflow parameter --{mapped.get(k, k)}")
    return params


# 5. The Dockerfile against Package.swift, the Makefile and .ci/run.

def check_dockerfile(container):
    docker = read("Dockerfile")
    package = read("Package.swift")
    table = [l.split() for l in read("pipelines/container/apt-packages.tsv").splitlines()
             if l.strip() and not l.startswith("#")]
    build = {row[0] for row in table}
    if any(len(row) != 2 for row in table):
        fail("pipelines/container/apt-packages.tsv: every row needs a build and a runtime column")
    if "install-packages.sh build" not in docker or "install-packages.sh runtime" not in docker:
        fail("Dockerfile: the stages do not run pipelines/container/install-packages.sh build/runtime")
    wanted = {
        "Package.swift": set(re.findall(r'"([a-z0-9.+-]+)"', " ".join(re.findall(r"\.apt\(\[([^\]]*)\]\)", package)))),
        "the Makefile's deps": set(" ".join(re.findall(r'missing="\$\$missing ([^"]+)"', read("Makefile"))).split()),
        ".ci/run": set(" ".join(re.findall(r"missing\+=\(([^)]+)\)", read(".ci/run"))).split()) - {"python3-venv"},
    }
    for where, pkgs in wanted.items():
        if not pkgs:
            fail(f"found no system packages in {where} (has its layout changed?)")
        for p in sorted(pkgs - build):
            fail(f"{where} needs {p}, which pipelines/container/apt-packages.tsv does not install")
    make_build = re.search(r"^build:.*\n\t\$\(SWIFT\) (build [^\n]*)", read("Makefile"), re.M)
    if not make_build or not re.search(rf"RUN swift {re.escape(make_build[1])}\b", docker):
        fail(f"Dockerfile does not build as the Makefile does (swift {make_build[1] if make_build else '?'})")
    installed = set(re.search(r"for tool in ([a-z ]+); do install", docker)[1].split()) if "do install" in docker else set()
    for product in re.findall(r'\.executable\(name: "([\w-]+)"', package):
        if product not in installed:
            fail(f"Dockerfile does not install the executable {product}")
    tools_version = re.search(r"swift-tools-version:\s*([\d.]+)", package)[1]
    swift = re.search(r"ARG SWIFT_VERSION=([\d.]+)", docker)
    if not swift or [int(x) for x in swift[1].split(".")] < [int(x) for x in tools_version.split(".")]:
        fail(f"Dockerfile's Swift {swift[1] if swift else '?'} is older than Package.swift's tools version {tools_version}")
    tag = container.split(":")[-1]
    if f"docker build -t {container} ." not in docker or f'image.version="{tag}"' not in docker:
        fail(f"Dockerfile: its build command and version label do not name {container}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--snakemake", help="snakemake to dry-run the Snakefile with (default: on PATH)")
    args = ap.parse_args()
    check_commands()
    params = check_params()
    container = params.get("container") or "?"
    check_modules(container)
    check_dockerfile(container)
    snakemake = args.snakemake or shutil.which("snakemake")
    if snakemake:
        check_dry_runs(snakemake)
    else:
        print("lint: snakemake not found; the dry runs were not compared", file=sys.stderr)
    for p in problems:
        print(f"lint: {p}", file=sys.stderr)
    if not problems:
        print(f"workflow lint: ok (commands, {'dry runs, ' if snakemake else ''}modules, schema, profiles, Dockerfile)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
