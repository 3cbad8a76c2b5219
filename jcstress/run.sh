#!/usr/bin/env bash
# Runs the jcstress tests of this module (see jcstress/README.md) and fails when any of them failed or errored.
#
#   jcstress/run.sh                        # every test in quick mode (-m quick); builds jcstress.jar if missing
#   jcstress/run.sh --build                # rebuild jcstress.jar (and the bundles it tests) first
#   jcstress/run.sh -m sanity              # another mode: sanity, quick, default, tough, stress
#   jcstress/run.sh -t SerialExecutor      # anything else goes to jcstress as it is (-t: a regexp over test names)
#
# Writes into jcstress/target/: results/ (jcstress's HTML report, one page per test), jcstress-results-*.bin.gz (the
# raw results; `java -jar jcstress/target/jcstress.jar -p FILE` prints them again) and console.txt (the console).
# Exit status: 0 when every test ran and passed; 1 when a test saw a FORBIDDEN outcome (failed), errored (threw, timed
# out, crashed its VM, or did not match its API), or jcstress itself did not finish; 2 for a bad option of this script.
# The verdict comes from jcstress's closing summary and its exit status (1, with "TEST FAILURES", when a test failed).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out=jcstress/target
jar=$out/jcstress.jar

build=false
if [[ ${1:-} == --build ]]; then
  build=true
  shift
fi
for arg in "$@"; do
  if [[ $arg == --* ]]; then
    echo "unknown option $arg (only --build is this script's own; jcstress options take one dash)" >&2
    exit 2
  fi
done

if $build || [[ ! -f $jar ]]; then
  ./mvnw -B -q -pl jcstress -am package -DskipTests
fi

args=("$@")
mode_given=false
for arg in "$@"; do
  [[ $arg == -m ]] && mode_given=true
done
$mode_given || args=(-m quick "${args[@]}")

rm -rf "$out/results" "$out"/jcstress-results-*.bin.gz
start=$(date +%s)
set +e
{
  echo "machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')," \
    "$(java -version 2>&1 | head -1), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "jcstress ${args[*]}"
  # -ea for our packages: the mailbox owner assertions of the SEDA connection run inside the tests too
  (cd "$out" && java -jar jcstress.jar -r results -jvmArgsPrepend "-ea:org.midimesh..." "${args[@]}")
} 2>&1 | tee "$out/console.txt"
status=${PIPESTATUS[0]}
set -e
elapsed=$(($(date +%s) - start))

# The closing summary, e.g. "(Results: 140 planned; 140 passed, 0 failed, 0 soft errs, 0 hard errs)": the last one
# counts. Soft errors are tests that could not run as planned; they fail the run too.
summary=$(grep -E '^\(Results: [0-9]+ planned; [0-9]+ passed, [0-9]+ failed, [0-9]+ soft errs, [0-9]+ hard errs\)$' \
  "$out/console.txt" | tail -1 || true)
verdict() {
  echo
  echo "jcstress/run.sh: $1 after ${elapsed} s (${summary:-no summary}); report: $out/results/index.html"
}
if [[ -z $summary ]] || ! grep -q '^RUN RESULTS:' "$out/console.txt"; then
  verdict "FAILED: jcstress ran no test or did not finish (exit status $status; see $out/console.txt)"
  exit 1
fi
# "(Results: 140 planned; 140 passed, 0 failed, 0 soft errs, 0 hard errs)" -> "140 140 0 0 0"
read -r planned passed failed soft hard <<<"$(tr -cs '0-9' ' ' <<<"$summary")"
if [[ $failed -ne 0 || $soft -ne 0 || $hard -ne 0 ]] \
  || ! grep -q '^  Failed tests: No matches\.' "$out/console.txt" \
  || ! grep -q '^  Error tests: No matches\.' "$out/console.txt"; then
  verdict "FAILED: a FORBIDDEN outcome or an error (see 'Failed tests' and 'Error tests' above)"
  exit 1
fi
if [[ $status -ne 0 ]]; then
  verdict "FAILED: jcstress exited with status $status"
  exit 1
fi
if [[ $passed -eq 0 || $passed -ne $planned ]]; then
  verdict "FAILED: $passed of $planned planned runs passed (did -t match any test?)"
  exit 1
fi
verdict "PASSED"
