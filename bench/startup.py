#!/usr/bin/env python3
"""Start-up of small cohx jobs through the ./cohx launcher, with and without the JVM's AOT cache,
side by side with the Python port of the reference packer (tools/reference/pack_reference.py).

Prints one JSON line per measurement (wall seconds: median, min and every run):
  help           ./cohx --help
  pack_p         ./cohx pack --include-feedback p on INPUT (a HH-RLHF-format .jsonl[.gz])
  pack_python_p  the Python packer on the same input, same feedback types (its output is checked
                 byte for byte against cohx's)
  pack_all       (with --all) the same pair for p,n,pn,np,aux
  demo_first_step (with --demo) ./cohx demo --steps 1: wall time until the "step 1/" line
Each cohx measurement runs twice: "aot": "off" (COHX_AOT=off: plain JVM, class data sharing of
the JDK only) and "aot": "auto" (the launcher's AOT cache, made afresh before the first timed run;
the time that took is printed as aot_create). Wall times on a loaded machine swing by 2x; the
CPU seconds (user+sys of the command and its children) are steadier and printed too.

With --before, every command is also timed as "aot": "before", for a before/after comparison in
one run on the same machine load: --before DIR (a checkout of an earlier commit, built) runs
DIR/cohx, that version's launcher with its own defaults (its AOT cache included, made before the
timed runs); --before JAR (a cohx.jar built from an earlier commit) runs that jar with the
launcher's flags and no cache.

Usage: bench/startup.py INPUT [--runs N] [--all] [--demo] [--before DIR_OR_JAR]
INPUT: e.g. the 2,312-record harmless-base test split of Anthropic's hh-rlhf
(harmless-base/test.jsonl.gz). Run it on a quiet machine: the numbers are wall times.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COHX = os.path.join(ROOT, "cohx")


def env(aot):
    e = dict(os.environ)
    e["COHX_AOT"] = "auto" if aot == "before" else aot
    return e


def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd, environment, out_dir=None):
    """(wall seconds, CPU seconds) of one run of cmd."""
    if out_dir:
        shutil.rmtree(out_dir, ignore_errors=True)
    c0, t0 = cpu(), time.perf_counter()
    r = subprocess.run(cmd, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt, dc = time.perf_counter() - t0, cpu() - c0
    if r.returncode != 0:
        sys.exit("startup.py: %s failed (%d):\n%s" % (" ".join(cmd), r.returncode, r.stderr.decode(errors="replace")))
    return dt, dc


def report(bench, runs, **extra):
    wall = [w for w, _ in runs]
    row = {"bench": bench, **extra, "median_s": round(statistics.median(wall), 3), "min_s": round(min(wall), 3),
           "runs_s": [round(x, 3) for x in wall]}
    if all(c is not None for _, c in runs):
        row["cpu_median_s"] = round(statistics.median(c for _, c in runs), 3)
    print(json.dumps(row), flush=True)
    return row


def same_files(a, b):
    names = sorted(os.listdir(a))
    if not names or names != sorted(os.listdir(b)):
        return False
    for n in names:
        with open(os.path.join(a, n), "rb") as fa, open(os.path.join(b, n), "rb") as fb:
            if fa.read() != fb.read():
                return False
    return True


def command(aot, before, args):
    """./cohx ARGS, or for "before" the earlier checkout's launcher or jar."""
    if aot != "before":
        return [COHX] + args
    if os.path.isdir(before):
        return [os.path.join(before, "cohx")] + args
    java = os.path.join(os.environ.get("COHX_JAVA_HOME") or os.environ["JAVA_HOME"], "bin", "java")
    return [java, "--enable-native-access=ALL-UNNAMED", "-Dmsgpack.universal-buffer=true", "-Djava.awt.headless=true",
            "-jar", before] + args


def first_step(cmd, environment, work):
    out = os.path.join(work, "demo")
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd + ["demo", "--steps", "1", "--output-dir", out], env=environment,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    found = None
    for line in p.stdout:
        if found is None and line.startswith("step 1/"):
            found = time.perf_counter() - t0
    p.wait()
    if p.returncode != 0 or found is None:
        sys.exit("startup.py: cohx demo failed (%d) or printed no step line" % p.returncode)
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--all", action="store_true", help="also pack p,n,pn,np,aux")
    ap.add_argument("--demo", action="store_true", help="also time cohx demo to its first train step")
    ap.add_argument("--before", metavar="DIR_OR_JAR",
                    help="also time an earlier checkout's ./cohx (DIR) or an earlier cohx.jar without a cache")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="cohx-startup-")
    try:
        # Builds the jar if needed, then makes the cache afresh: both outside the timed runs. The
        # creation is timed as the first run after a build sees it (it includes one --version).
        subprocess.run([COHX, "--version"], env=env("off"), check=True, stdout=subprocess.DEVNULL)
        shutil.rmtree(os.path.join(ROOT, "cli/target/aot"), ignore_errors=True)
        t0 = time.perf_counter()
        subprocess.run([COHX, "--version"], env=env("auto"), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        print(json.dumps({"bench": "aot_create", "seconds": round(time.perf_counter() - t0, 3),
                          "cache_bytes": sum(os.path.getsize(os.path.join(ROOT, "cli/target/aot", f))
                                             for f in os.listdir(os.path.join(ROOT, "cli/target/aot")))}),
              flush=True)
        if args.before and os.path.isdir(args.before):  # its build and cache, before the timed runs
            subprocess.run(command("before", args.before, ["--version"]), env=env("before"), check=True,
                           stdout=subprocess.DEVNULL)
        rows = []
        modes = (["before"] if args.before else []) + ["off", "auto"]
        for aot in modes:
            rows.append(report("help", [timed(command(aot, args.before, ["--help"]), env(aot))
                                        for _ in range(args.runs)], aot=aot))
        types = ["p"] + (["p,n,pn,np,aux"] if args.all else [])
        for t in types:
            name = "pack_p" if t == "p" else "pack_all"
            cohx_out = os.path.join(work, "cohx")
            for aot in modes:
                cmd = command(aot, args.before, ["pack", "--offline", "--dataset", "dialogue", "--input",
                                                 "dialogue.train=" + args.input, "--include-feedback", t,
                                                 "--output-dir", cohx_out])
                rows.append(report(name, [timed(cmd, env(aot), cohx_out) for _ in range(args.runs)], aot=aot, feedback=t))
            py_out = os.path.join(work, "python")
            cmd = [sys.executable, os.path.join(ROOT, "tools/reference/pack_reference.py"), "--input",
                   "dialogue.train=" + args.input, "--include-feedback", t, "--output-dir", py_out]
            rows.append(report(name.replace("pack", "pack_python"), [timed(cmd, None, py_out) for _ in range(args.runs)],
                               feedback=t, identical_output=same_files(cohx_out, py_out)))
        if args.demo:
            for aot in modes:
                rows.append(report("demo_first_step", [(first_step(command(aot, args.before, []), env(aot), work), None)],
                                   aot=aot))
        by = {(r["bench"], r.get("aot")): r for r in rows}
        for name in ("pack_p", "pack_all"):
            py = by.get((name.replace("pack", "pack_python"), None))
            if py:
                print(json.dumps({"bench": name + "_vs_python", "python_median_s": py["median_s"],
                                  **{"cohx_aot_%s_median_s" % a: by[(name, a)]["median_s"] for a in modes},
                                  "python_over_cohx_aot_auto": round(py["median_s"] / by[(name, "auto")]["median_s"], 2)}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
