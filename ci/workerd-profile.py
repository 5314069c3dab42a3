#!/usr/bin/env python3
"""Where workerd's CPU goes per request, from `perf script` output of the workerd process that
runs the workers (ci/bench-compare with BENCH_PERF=1 records it).

Usage: perf script -i FILE | ci/workerd-profile.py REQUESTS SAMPLE_HZ
Prints one line: `name=ms ...`, CPU milliseconds per request for each part below.

workerd's binary keeps its symbols; code V8 generated at run time (JavaScript, WebAssembly and
the glue between them) has none, so it is one part, "generated code". The runtime's parts are
found by the workerd API or V8 function on the sample's stack, inclusive, so they overlap:
a socket write reached from generated code counts under "generated code" only by its own time.
"""

import re
import sys
from collections import Counter

# part name → substrings of a stack frame's symbol (first match on the stack wins per part)
PARTS = {
    "incoming": ["workerd::api::ServiceWorkerGlobalScope::request"],
    "subrequests": ["workerd::api::fetchImpl"],
    "socket_writes": ["workerd::api::WritableStreamDefaultWriter::write"],
    "socket_reads": ["workerd::api::ReaderImpl::read"],
    "db_connect": ["workerd::api::Hyperdrive::connect", "workerd::api::connectImpl"],
    "lock_releases": ["workerd::api::ReaderImpl::releaseLock",
                      "workerd::api::WritableStreamDefaultWriter::releaseLock"],
    "error_stacks": ["v8::internal::Isolate::CaptureAndSetErrorStack"],
    "do_sqlite": ["workerd::api::SqlStorage::exec"],
    "web_crypto": ["workerd::api::SubtleCrypto::"],
    "gc": ["v8::internal::Heap::CollectGarbage"],
    "wasm_compile": ["v8::internal::wasm::WasmCompilationUnit::ExecuteCompilation"],
}


def main() -> None:
    requests = float(sys.argv[1])
    hz = float(sys.argv[2])
    totals: Counter = Counter()
    for sample in sys.stdin.read().split("\n\n"):
        frames = [line.strip() for line in sample.strip().split("\n")[1:] if line.strip()]
        if not frames:
            continue
        totals["total"] += 1
        leaf = frames[0]
        if "kernel" in leaf:
            totals["self_kernel"] += 1
        elif "[unknown]" in leaf or "JIT" in leaf or "perf-" in leaf:
            totals["generated_code"] += 1
        else:
            totals["self_runtime"] += 1
        for part, needles in PARTS.items():
            if any(needle in frame for frame in frames for needle in needles):
                totals[part] += 1
    scale = 1000.0 / hz / max(requests, 1.0)
    names = ["total", "generated_code", "self_runtime", "self_kernel", *PARTS]
    print(" ".join(f"{name}={totals[name] * scale:.2f}" for name in names))


if __name__ == "__main__":
    main()
