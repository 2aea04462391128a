#!/usr/bin/env python3
"""Fault injection for the forge step (run by forge_flow.sh): cycles of one escalation and
its resume against tests/servers/fake_forge.py in GitHub mode. Each phase (a run) gets one
injected failure — 500, 502, 503, 429 with and without Retry-After, a timeout or a hang-up,
before or after the server carried the request out — on one of the requests that phase
sends, every (request, failure) pair in turn, and `cairn forge` is repeated until it exits
0, as the next ticks would. After every run the forge's state is checked: one issue and one
pull request per escalation, each comment once. Prints the figures; exits 1 on any
duplicate, lost comment or run that did not converge.

Usage: forge_faults.py --cairn BIN --api URL --dir WORKTREE --repo OWNER/NAME --cycles N [--seed S]
  WORKTREE: a clone whose cairn.yaml names the fake (kind github, repo OWNER/NAME) and
  whose campaigns/c1/WORKFLOW.md is escalated at stage `run`, committed and pushed.
"""
import argparse
import collections
import json
import os
import random
import re
import subprocess
import sys
import time
import urllib.request

WORKFLOW = "campaigns/c1/WORKFLOW.md"
# Requests each phase sends (method, path regex), any of which may fail.
TARGETS = {
    "escalate": [("GET", r"/issues$"), ("POST", r"/issues$"), ("GET", r"/pulls$"), ("POST", r"/pulls$"),
                 ("POST", r"/comments$")],
    "resume": [("GET", r"/issues$"), ("GET", r"/pulls$"), ("GET", r"/pulls/\d+$"), ("GET", r"/comments$"),
               ("POST", r"/comments$"), ("PATCH", r"/issues/\d+$")],
}
# (name, fault): how a request fails. after_commit: the server acted, the answer is lost.
MODES = [
    ("500", {"status": 500}),
    ("500 after commit", {"status": 500, "after_commit": True}),
    ("502", {"status": 502}),
    ("502 after commit", {"status": 502, "after_commit": True}),
    ("503", {"status": 503}),
    ("429 retry-after", {"status": 429, "retry_after": 1}),
    ("429", {"status": 429}),
    ("timeout after commit", {"status": "timeout", "after_commit": True, "delay": 0.8}),
    ("timeout", {"status": "timeout", "delay": 0.8}),
    ("hang-up after commit", {"status": "drop", "after_commit": True}),
]


def call(api, method, path, data=None):
    req = urllib.request.Request(api + path, method=method,
                                 data=None if data is None else json.dumps(data).encode())
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def marker_attempt(body):
    m = re.search(r"<!-- cairn:escalation c1 \S+ (\d+) -->", body or "")
    return int(m.group(1)) if m else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cairn", required=True)
    ap.add_argument("--api", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--repo", default="acme/sims", help="the forge repository cairn.yaml names")
    ap.add_argument("--cycles", type=int, default=100)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    path = os.path.join(a.dir, WORKFLOW)
    escalated = open(path).read()
    cleared = (escalated.replace("escalation_required: true", "escalation_required: false")
               .replace("status: escalated", "status: ready").replace("| escalated |", "| ready     |"))
    env = dict(os.environ, CAIRN_FORGE_TIMEOUT_MS="400")

    figures = collections.Counter()
    fired = collections.Counter()
    problems = []
    invocations = 0
    retry_after_gaps = []
    # Every (request, failure) pair of a phase once, in a shuffled order, then again.
    plans = {}
    for phase, targets in TARGETS.items():
        pairs = [(t, m) for t in targets for m in MODES]
        rng.shuffle(pairs)
        plans[phase] = pairs
    runs = 2 * a.cycles
    started = time.time()
    for run in range(runs):
        k = run // 2 + 1
        phase = "escalate" if run % 2 == 0 else "resume"
        with open(path, "w") as f:
            f.write(escalated if phase == "escalate" else cleared)
        (method, target), (name, mode) = plans[phase][(k - 1) % len(plans[phase])]
        if method == "GET" and mode.get("after_commit"):
            mode = {k2: v for k2, v in mode.items() if k2 != "after_commit"}
            name = name.replace(" after commit", "")
        call(a.api, "POST", "/_control/fault", dict(mode, method=method, path=target, count=1))
        phase_start = time.time()
        rcs = []
        while len(rcs) < 5:
            p = subprocess.run([a.cairn, "forge"], cwd=a.dir, env=env, capture_output=True, text=True)
            invocations += 1
            rcs.append(p.returncode)
            if p.returncode == 0:
                break
            if p.returncode != 3:
                problems.append("run %d (%s, %s %s %s): exit %d: %s" % (run + 1, phase, name, method, target,
                                                                       p.returncode, p.stderr.strip()[:300]))
                break
        if rcs[-1] != 0:
            figures["not converged"] += 1
            problems.append("run %d (%s, %s on %s %s): exits %s" % (run + 1, phase, name, method, target, rcs))
        for f in call(a.api, "POST", "/_control/fault", {"clear": True}):
            for t in f.get("fired", []):
                fired[name] += 1
                if f.get("retry_after"):
                    later = [r["t"] for r in call(a.api, "GET", "/_control/requests")
                             if r["t"] > t and r["method"] == method and re.search(target, r["path"])]
                    if later:
                        retry_after_gaps.append(min(later) - t)
        figures["extra ticks"] += len(rcs) - 1

        repo = [r for r in call(a.api, "GET", "/_control/state") if r["kind"] == "github" and r["repo"] == a.repo][0]
        issues = [i for i in repo["issues"] if marker_attempt(i["body"]) == k]
        pulls = [p for p in repo["pulls"] if p["head"] == "cairn/clear/c1/%d" % k]
        where = "run %d (%s, %s on %s %s)" % (run + 1, phase, name, method, target)
        figures["duplicate issues"] += max(0, len(issues) - 1)
        figures["duplicate pull requests"] += max(0, len(pulls) - 1)
        if len(issues) != 1 or len(pulls) != 1:
            problems.append("%s: %d issues and %d pull requests for escalation %d" % (where, len(issues), len(pulls), k))
            continue
        issue, pull = issues[0], pulls[0]
        comments = issue["comments"]
        dup = len(comments) - len(set(comments))
        figures["duplicate comments"] += dup
        link = sum(1 for c in comments if "<!-- cairn:pull %d -->" % pull["number"] in c)
        if link != 1:
            figures["lost comments" if link == 0 else "duplicate comments"] += 0 if link > 1 else 1
            problems.append("%s: %d link comments on issue #%d" % (where, link, issue["number"]))
        if phase == "escalate":
            if issue["state"] != "open" or sum(1 for i in repo["issues"] if i["state"] == "open") != 1:
                problems.append("%s: issue #%d is %s; %d open issues" % (
                    where, issue["number"], issue["state"], sum(1 for i in repo["issues"] if i["state"] == "open")))
            call(a.api, "POST", "/_control/merge", {"kind": "github", "number": pull["number"], "user": "alice"})
        else:
            resumed = sum(1 for c in comments if "<!-- cairn:resumed -->" in c)
            if resumed != 1:
                figures["lost comments" if resumed == 0 else "duplicate comments"] += 0 if resumed > 1 else 1
                problems.append("%s: %d resumed comments on issue #%d" % (where, resumed, issue["number"]))
            if issue["state"] != "closed":
                problems.append("%s: issue #%d still open" % (where, issue["number"]))
        if dup:
            problems.append("%s: duplicate comments on issue #%d: %s" % (where, issue["number"], comments))
    with open(path, "w") as f:
        f.write(escalated)

    repo = [r for r in call(a.api, "GET", "/_control/state") if r["kind"] == "github" and r["repo"] == a.repo][0]
    elapsed = time.time() - started
    print("forge faults: %d runs (%d escalations, %d resumes) in %.1f s, %d cairn invocations (%d extra ticks)" % (
        runs, a.cycles, a.cycles, elapsed, invocations, figures["extra ticks"]))
    print("faults fired: %d (%s)" % (sum(fired.values()), ", ".join("%s: %d" % kv for kv in sorted(fired.items()))))
    if retry_after_gaps:
        print("Retry-After: 1 honoured: retried after %.2f-%.2f s (%d times)" % (
            min(retry_after_gaps), max(retry_after_gaps), len(retry_after_gaps)))
        if min(retry_after_gaps) < 0.95:
            problems.append("a 429 with Retry-After: 1 was retried after %.2f s" % min(retry_after_gaps))
    print("issues: %d, pull requests: %d; duplicate issues: %d, duplicate pull requests: %d, duplicate comments: %d, "
          "lost comments: %d, phases not converged: %d" % (
              len(repo["issues"]), len(repo["pulls"]), figures["duplicate issues"], figures["duplicate pull requests"],
              figures["duplicate comments"], figures["lost comments"], figures["not converged"]))
    for p in problems[:20]:
        print("PROBLEM: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
