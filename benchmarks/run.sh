#!/usr/bin/env bash
# Runs the JMH suite of docs/benchmarks.md, both strategies in one run, and prints the rows of its results table.
#
#   benchmarks/run.sh                    # the full suite (about 11 minutes on 2 cores); builds benchmarks.jar if missing
#   benchmarks/run.sh --build            # rebuild benchmarks.jar (and the modules it uses) first
#   benchmarks/run.sh --table-only       # only print the table again from the last result
#   benchmarks/run.sh 'QueryBenchmark' -p strategy=mutex    # anything else goes to JMH as it is
#   benchmarks/run.sh --build SwapBenchmark                 # the hot-swap benchmark alone (about 3 minutes)
#   benchmarks/run.sh SwapBenchmark -p connections=1000 -p direction=seda-to-mutex    # one case of it
#
# Everything after the options goes to JMH; a word that is not a JMH option is a filter (a regular expression
# over the benchmark names).
# Writes into benchmarks/target/: jmh-result.json (JMH's own), jmh-result.csv (one line per score), jmh-output.txt
# (the console) and strategy-logs/ (the strategies' WARN/ERROR log, one file per fork). Each run replaces them.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out=benchmarks/target
jar=$out/benchmarks.jar

build=false
table_only=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=true; shift ;;
    --table-only) table_only=true; shift ;;
    *) break ;;
  esac
done

if ! $table_only; then
  if $build || [[ ! -f $jar ]]; then
    ./mvnw -B -q -pl benchmarks -am package -DskipTests
  fi
  mkdir -p "$out/strategy-logs"
  {
    echo "machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')," \
      "$(java -version 2>&1 | head -1), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    java -jar "$jar" -rf json -rff "$out/jmh-result.json" \
      -jvmArgsPrepend "-Dmidimesh.bench.logDir=$root/$out/strategy-logs" "$@"
  } 2>&1 | tee "$out/jmh-output.txt"
  # one log per fork is opened; keep only those a strategy actually wrote to
  find "$out/strategy-logs" -type f -empty -delete
fi

if [[ ! -f $out/jmh-result.json ]]; then
  echo "no $out/jmh-result.json: run the suite first" >&2
  exit 1
fi
python3 - "$out/jmh-result.json" "$out/jmh-result.csv" <<'PY'
import csv, json, math, sys

results = json.load(open(sys.argv[1]))
TARGETS = {  # benchmark: (our target, workplan target) in ns/op, uncontended
    "getState": (5.0, 20.0),
    "getRemoteDevices": (50.0, 1_000_000.0),
}
rows = {}    # (order, label, threads, unit, target) -> {strategy: (score, error)}
swaps = {}   # (connections, unit) -> {direction: (score, error)}
flat = []

def put(order, label, threads, unit, target, strategy, metric):
    score, err = metric["score"], metric["scoreError"]
    err = float(err) if err not in ("NaN", None) else math.nan
    rows.setdefault((order, label, threads, unit, target), {})[strategy] = (score, err)
    flat.append([label, threads, strategy, score, "" if math.isnan(err) else err, unit])

for r in results:
    cls, name = r["benchmark"].split(".")[-2:]
    strategy = r.get("params", {}).get("strategy", "any")
    unit = r["primaryMetric"]["scoreUnit"]
    if cls == "SwapBenchmark":
        params = r.get("params", {})
        n, direction, m = int(params["connections"]), params["direction"], r["primaryMetric"]
        err = float(m["scoreError"]) if m["scoreError"] not in ("NaN", None) else math.nan
        swaps.setdefault((n, unit), {})[direction] = (m["score"], err)
        flat.append([f"swap {n} connections", "1", direction, m["score"], "" if math.isnan(err) else err, unit])
    elif cls == "BaselineBenchmark":
        for s in ("mutex", "seda"):
            put((0, 0), "baseline: volatile read (no strategy)", "1", unit, "-", s, r["primaryMetric"])
    elif cls == "QueryBenchmark":
        order = ["getState", "getRemoteDevices", "getRemoteNode", "getTimeSinceLastHeartbeat"].index(name)
        t = TARGETS.get(name)
        target = "-" if t is None else f"<= {t[0]:g} ns (workplan < {'1 ms' if t[1] >= 1e6 else f'{t[1]:g} ns'})"
        put((1, order), name, "1", unit, target, strategy, r["primaryMetric"])
    elif cls == "SendBenchmark":
        for i, k in enumerate(("accepted", "refused")):
            put((2, i), f"send, {k}", "1", unit, "-", strategy, r["secondaryMetrics"][k])
    elif cls == "ConcurrentQueryBenchmark":
        query, readers = name.rsplit("_r", 1)
        pause = r.get("params", {}).get("writerPauseUs", "50")
        label = f"{query}, with a writer" + ("" if pause == "50" else f" (pause {pause} us)")
        put((3 + ["getState", "getRemoteDevices"].index(query), int(readers), int(pause)), label,
            f"{int(readers)} + 1 writer", unit, "-", strategy, r["secondaryMetrics"][name + "_read"])
    else:
        put((9, 0), f"{cls}.{name}", str(r["threads"]), unit, "-", strategy, r["primaryMetric"])

with open(sys.argv[2], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["benchmark", "threads", "strategy", "score", "error", "unit"])
    w.writerows(flat)

def cell(v):
    if v is None:
        return "not run"
    score, err = v
    if score == 0:
        return "0"
    fmt = (lambda x: f"{x:,.0f}") if score >= 100 else (lambda x: f"{x:.2f}")
    return fmt(score) + ("" if math.isnan(err) else " ± " + fmt(err))

def verdict(label, strat):
    t = TARGETS.get(label)
    if t is None:
        return "-"
    parts = []
    for s in ("mutex", "seda"):
        if s not in strat:
            parts.append(f"{s}: not run")
            continue
        score, err = strat[s]
        err = 0.0 if math.isnan(err) else err
        if score <= t[0]:
            v = "meets ours" + (" (within error)" if score + err > t[0] else "")
        else:
            v = "misses ours" + (" (within error)" if score - err <= t[0] else "")
            v += ", meets workplan" if score < t[1] else ", misses workplan too"
        parts.append(f"{s}: {v}")
    return "; ".join(parts)

if rows:
    print()
    print("| benchmark | threads | mutex | seda | unit | target | verdict |")
    print("|---|---|---|---|---|---|---|")
    for key in sorted(rows):
        _, label, threads, unit, target = key
        strat = rows[key]
        print(f"| {label} | {threads} | {cell(strat.get('mutex'))} | {cell(strat.get('seda'))} | {unit} | {target} "
              f"| {verdict(label, strat) if threads == '1' else '-'} |")
if swaps:
    print()
    print("| live connections moved | mutex -> seda | seda -> mutex | unit |")
    print("|---|---|---|---|")
    for (n, unit), d in sorted(swaps.items()):
        print(f"| {n:,} | {cell(d.get('mutex-to-seda'))} | {cell(d.get('seda-to-mutex'))} | {unit} |")
print(f"\n(JSON: {sys.argv[1]}, CSV: {sys.argv[2]})")
PY
