#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of the Fuzz/ package.
#
#   Tools/scripts/fuzz.sh [seconds] [target...]
#
# seconds  how long to run each target (default 60)
# target   Fuzz target names such as FuzzJSON (default: every target declared in
#          Fuzz/Package.swift that has a folder in Fuzz/Sources)
#
# Each target starts from its seeds in Fuzz/Corpus/<Target>/ plus a working corpus kept in
# Fuzz/.build-fuzz/corpus/<Target>/ (not committed). Crashes, leaks, timeouts and
# out-of-memory inputs are saved to Fuzz/FailCases/<Target>/ as `crash_<sha1>` and so on
# (underscore, not libFuzzer's dash, which the root .gitignore ignores), where the unit tests
# replay them; commit them with the fix. Exits non-zero if any target found a failure, ran
# without coverage instrumentation, or did not build. Logs: Fuzz/.build-fuzz/logs/<Target>.log.
#
# Build flags: `--sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address`. Passing
# `--sanitize=fuzzer --sanitize=address` instead sometimes builds without coverage (see the
# platform notes), which is why the log is checked for `cov:`.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
fuzz="$root/Fuzz"
build="$fuzz/.build-fuzz"
seconds=60
if [[ $# -gt 0 && "$1" =~ ^[0-9]+$ ]]; then
    seconds="$1"
    shift
fi

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    for dir in "$fuzz"/Sources/*/; do
        name="$(basename "$dir")"
        grep -q "\"$name\"" "$fuzz/Package.swift" && targets+=("$name")
    done
fi
if [[ ${#targets[@]} -eq 0 ]]; then
    echo "fuzz.sh: no targets" >&2
    exit 2
fi

mkdir -p "$build/logs"
status=0
for target in "${targets[@]}"; do
    log="$build/logs/$target.log"
    echo "== $target: building"
    if ! swift build --package-path "$fuzz" --build-path "$build" -c release \
        --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address --product "$target" \
        >"$log.build" 2>&1; then
        echo "   build failed; tail of $log.build:"
        tail -n 20 "$log.build" | sed 's/^/   /'
        status=1
        continue
    fi
    binary="$build/release/$target"
    seeds="$fuzz/Corpus/$target"
    work="$build/corpus/$target"
    fails="$fuzz/FailCases/$target"
    mkdir -p "$seeds" "$work" "$fails"

    echo "== $target: running for ${seconds}s"
    # -timeout: a single input running 10 s counts as a hang. -rss_limit_mb stays at the
    # default 2048. -dict is not used: the seeds carry the grammar.
    # SWIFT_BACKTRACE off: Swift's crash handler and ASan get in each other's way (ASan then
    # reports a bogus error in the handler); libFuzzer prints the stack itself.
    SWIFT_BACKTRACE=enable=no "$binary" "$work" "$seeds" -max_total_time="$seconds" -timeout=10 \
        -artifact_prefix="$fails/" -print_final_stats=1 >"$log" 2>&1
    code=$?

    for artifact in "$fails"/crash-* "$fails"/leak-* "$fails"/timeout-* "$fails"/oom-*; do
        [[ -e "$artifact" ]] || continue
        base="$(basename "$artifact")"
        mv "$artifact" "$fails/${base/-/_}"
        echo "   saved Fuzz/FailCases/$target/${base/-/_}"
    done

    runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')"
    speed="$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$')"
    coverage="$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1)"
    echo "   exit $code, ${runs:-?} runs, ${speed:-?} exec/s, ${coverage:-no coverage line}"
    if [[ $code -eq 0 && -z "$coverage" ]] || grep -q 'no interesting inputs were found' "$log"; then
        echo "   no coverage instrumentation: the build is broken (see $log)"
        status=1
    fi
    if [[ $code -ne 0 ]]; then
        echo "   FAILED; tail of $log:"
        grep -E 'ERROR|SUMMARY|Fatal error|Precondition failed|#[0-9]+ 0x' "$log" | head -n 20 \
            | sed 's/^/   /'
        status=1
    fi
done
exit $status
