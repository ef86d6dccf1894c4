"""Run a command and report its peak memory, split into heap and file-mapped pages.

Usage: python peakmem.py [--json] CMD [ARGS...]

Polls /proc/PID/status every 5 ms (the command's own process; children are not followed) and
prints, on stderr, the peak VmRSS and the peaks of RssAnon (heap: what the program allocated)
and RssFile (pages of memory-mapped files, such as a Parquet input read through mmap, which
the kernel can drop at any time), and the CPU seconds (user + system, all threads) it used.
`/usr/bin/time -v` reports VmRSS only. Exits with the command's exit code; with --json prints
one JSON object instead.
"""
import json
import resource
import subprocess
import sys
import time


def sample(pid):
    fields = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "RssAnon", "RssFile"):
                    fields[key] = int(value.split()[0])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return fields


def main():
    args = sys.argv[1:]
    as_json = args[:1] == ["--json"]
    if as_json:
        args = args[1:]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(args)
    peak = {"VmRSS": 0, "RssAnon": 0, "RssFile": 0}
    while proc.poll() is None:
        for key, value in sample(proc.pid).items():
            peak[key] = max(peak[key], value)
        time.sleep(0.005)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = {"seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3), "peak_rss_kb": peak["VmRSS"],
              "peak_anon_kb": peak["RssAnon"], "peak_file_kb": peak["RssFile"], "exit": proc.returncode}
    if as_json:
        print(json.dumps(result), file=sys.stderr)
    else:
        print(f"{seconds:.2f} s ({cpu:.2f} s CPU), peak RSS {peak['VmRSS'] / 1024:.0f} MB "
              f"(heap {peak['RssAnon'] / 1024:.0f} MB, mapped files {peak['RssFile'] / 1024:.0f} MB)",
              file=sys.stderr)
    sys.exit(proc.returncode)


main()
