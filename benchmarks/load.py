"""The page benchmark's load client: a process of its own (pages.py starts it), standard library
only, no Django. Each of ``concurrency`` closed-loop workers (one process each, with a signed-in
session of its own for each page) requests, for one page after another, the floor page and then
the page, again and again: a few warm-ups, then ``iterations`` measured pairs, or fewer once
``page_seconds`` have passed (at least one). The workers start each page together (a barrier), so
a page's requests and the floor requests between them share the same minute and the same load.

    python -m benchmarks.load PLAN.json RESULTS.json

The plan (pages.py writes it): host, port, headers, cookie_name, concurrency, warmup, iterations,
page_seconds, timeout, floor_path, pages [{key, path, role, stream}], sessions {page key: [session
key per worker]}.
The results: {key: {"page": [sample, ...], "floor": [...], "errors": [...]}}, a sample being
{"total", "first", "bytes", "lines"[, "first_row"]} in seconds and bytes."""

from __future__ import annotations

import http.client
import json
import multiprocessing
import sys
import time
from pathlib import Path
from queue import Empty
from typing import Any

LABEL_HEADER = "X-Bench-Label"  # benchmarks/sqlcount.py counts the statements of these


class RequestFailed(Exception):
    pass


def fetch(plan: dict, path: str, *, cookie: str, label: str, stream: bool) -> dict:
    """One GET on a new connection (gunicorn's sync workers close each after the response)."""
    headers = {**plan["headers"], "Cookie": f"{plan['cookie_name']}={cookie}", LABEL_HEADER: label}
    started = time.perf_counter()
    connection = http.client.HTTPConnection(plan["host"], plan["port"], timeout=plan["timeout"])
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        first = time.perf_counter() - started
        sample: dict[str, Any] = {"first": first}
        body = b""
        if stream:
            # The first data row of a CSV (its second line): what a user waits for to see rows.
            body = response.readline() + response.readline()
            sample["first_row"] = time.perf_counter() - started
        body += response.read()
        sample["total"] = time.perf_counter() - started
    finally:
        connection.close()
    if response.status != 200:
        where = response.getheader("Location", "")
        raise RequestFailed(f"{path}: HTTP {response.status} {where}".strip())
    sample["bytes"] = len(body)
    sample["lines"] = body.count(b"\n")
    return sample


def _pairs(plan: dict, page: dict, cookie: str) -> dict:
    """Warm-ups, then measured floor/page pairs, for one page in one worker."""
    floor_label, page_label = f"floor:{page['role']}", page["key"]
    budget = plan["page_seconds"]
    result: dict[str, list] = {"page": [], "floor": [], "errors": []}
    started = time.perf_counter()

    def pair() -> tuple[dict, dict]:
        floor = fetch(plan, plan["floor_path"], cookie=cookie, label=floor_label, stream=False)
        sample = fetch(plan, page["path"], cookie=cookie, label=page_label, stream=page["stream"])
        return floor, sample

    try:
        for done in range(plan["warmup"]):
            if done and time.perf_counter() - started > budget / 4:
                break
            pair()
        measured_from = time.perf_counter()
        for done in range(plan["iterations"]):
            if done and time.perf_counter() - measured_from > budget:
                break
            floor, sample = pair()
            result["floor"].append(floor)
            result["page"].append(sample)
    except (RequestFailed, OSError, http.client.HTTPException) as error:
        result["errors"].append(str(error))
    return result


def worker(index: int, plan: dict, barrier, results) -> None:
    for page in plan["pages"]:
        barrier.wait(timeout=plan["timeout"] * 6 + plan["page_seconds"] * 2)
        cookie = plan["sessions"][page["key"]][index]
        results.put((index, page["key"], _pairs(plan, page, cookie)))
    results.put((index, None, None))


def _progress(page: dict, merged: dict) -> str:
    def median(samples: list[dict]) -> str:
        values = sorted(sample["total"] for sample in samples)
        return f"{values[len(values) // 2] * 1000:,.1f} ms" if values else "-"

    errors = f", {len(merged['errors'])} failed" if merged["errors"] else ""
    return (
        f"  {page['key']:<28} page {median(merged['page']):>12}   floor {median(merged['floor'])}"
        f"  (n={len(merged['page'])}{errors})"
    )


def run(plan: dict) -> dict:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(plan["concurrency"])
    queue = context.Queue()
    processes = [
        context.Process(target=worker, args=(index, plan, barrier, queue), daemon=True)
        for index in range(plan["concurrency"])
    ]
    for process in processes:
        process.start()
    pages = {page["key"]: page for page in plan["pages"]}
    results = {key: {"page": [], "floor": [], "errors": []} for key in pages}
    reported = dict.fromkeys(pages, 0)
    running = len(processes)
    while running:
        try:
            _index, key, result = queue.get(timeout=5)
        except Empty:
            dead = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"a load worker died (exit codes {dead})") from None
            continue
        if key is None:
            running -= 1
            continue
        for part in ("page", "floor", "errors"):
            results[key][part].extend(result[part])
        reported[key] += 1
        if reported[key] == len(processes):
            print(_progress(pages[key], results[key]), file=sys.stderr, flush=True)
    for process in processes:
        process.join()
    return results


def main(argv: list[str]) -> int:
    plan = json.loads(Path(argv[0]).read_text())
    Path(argv[1]).write_text(json.dumps(run(plan)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
