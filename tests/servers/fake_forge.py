#!/usr/bin/env python3
"""A stateful fake forge for cairn's tests: the subset of the GitHub REST API, GitLab v4
and Gitea v1 that cairn uses, in their real JSON shapes, on one loopback port.

  GitHub  /repos/{owner}/{repo}/...            Authorization: Bearer TOKEN
  GitLab  /api/v4/projects/{url-encoded path}/...  PRIVATE-TOKEN / JOB-TOKEN: TOKEN
  Gitea   /api/v1/repos/{owner}/{repo}/...      Authorization: token TOKEN

Control endpoints (no auth), for tests:
  GET  /_control/requests          every API request so far: method, path, query, body
  GET  /_control/state[?kind=K]    every repository's issues (with comment bodies) and pulls
  POST /_control/merge             {"kind": "github", "number": 1, "user": "alice"}
  POST /_control/close_pull        {"kind": "github", "number": 1}
  POST /_control/fault             the next `count` requests matching `method` and the
                                   regex `path` fail: {"status": 502, "count": 2,
                                   "method": "POST", "path": "/pulls$"}. With
                                   "after_commit": true the request is carried out first
                                   (the answer is lost, as behind a failing gateway).
                                   "status": "timeout" answers nothing for `delay` seconds,
                                   then hangs up; "status": "drop" hangs up at once.
                                   "retry_after": N adds a Retry-After header.
                                   {"clear": true} drops every fault and answers them, each
                                   with `fired`: the times it fired.
  POST /_control/token             {"scopes": "repo", "push": true, "has_issues": true}: what
                                   the repository endpoints (GET /repos/o/r, GET
                                   /projects/:id) report about the token, for `cairn doctor`
  POST /_control/reset             forget everything

Usage: fake_forge.py --token TOKEN --port-file FILE [--log FILE]   (binds 127.0.0.1 on a
free port; --log appends every API request as a JSON line: t, method, path, query, body)
"""
import argparse
import json
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
BASE = "http://forge.invalid"


def now():
    return "2026-05-05T20:10:00Z"


class State:
    def __init__(self):
        self.requests = []
        self.faults = []
        self.repos = {}  # (kind, repo) -> {"issues": [], "pulls": [], "labels": [], "comments": []}
        self.next_id = 1000

    def repo(self, kind, name):
        return self.repos.setdefault((kind, name), {"issues": [], "pulls": [], "labels": [], "comments": []})

    def new_id(self):
        self.next_id += 1
        return self.next_id


STATE = State()
TOKEN = ""
LOG = None
ACCESS = {"scopes": "repo, workflow", "push": True, "has_issues": True}


def user(login):
    return {"login": login, "id": 1, "type": "User"}


def gl_user(name):
    return {"id": 1, "username": name, "name": name, "state": "active"}


def number_for(r):
    # Issues and pull requests share one number sequence on GitHub and Gitea.
    return len(r["issues"]) + len(r["pulls"]) + 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    # ---- plumbing ----------------------------------------------------------------
    def reply(self, status, obj=None, headers=None):
        if getattr(self, "swallow", False):  # an after-commit fault answers instead
            return None
        body = b"" if obj is None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        return raw.decode("utf-8", "replace")

    def handle_any(self, method):
        url = urllib.parse.urlsplit(self.path)
        raw_path = url.path
        query = dict(urllib.parse.parse_qsl(url.query))
        text = self.body()
        if raw_path.startswith("/_control/"):
            with LOCK:
                return self.control(method, raw_path, query, text)
        with LOCK:
            entry = {"t": round(time.time(), 3), "method": method, "path": raw_path, "query": query, "body": text,
                     "user_agent": self.headers.get("User-Agent", ""),
                     "headers": sorted(self.headers.keys())}
            STATE.requests.append(entry)
            if LOG is not None:
                LOG.write(json.dumps(entry) + "\n")
                LOG.flush()
            fault = None
            for f in STATE.faults:
                if f["count"] > 0 and f.get("method", method) == method and re.search(f.get("path", ""), raw_path):
                    f["count"] -= 1
                    f.setdefault("fired", []).append(entry["t"])
                    fault = f
                    break
            self.swallow = fault is not None
            if fault is None or fault.get("after_commit"):
                self.route(method, raw_path, query, text)
            self.swallow = False
        if fault is None:
            return None
        if fault["status"] in ("timeout", "drop"):
            # Stay silent (outside the lock, so other requests go on), then hang up.
            if fault["status"] == "timeout":
                time.sleep(float(fault.get("delay", 1.0)))
            self.close_connection = True
            return None
        hdrs = {"Retry-After": str(fault["retry_after"])} if "retry_after" in fault else {}
        return self.reply(fault["status"], {"message": "injected fault"}, hdrs)

    def route(self, method, raw_path, query, text):
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            return self.reply(400, {"message": "Problems parsing JSON"})
        try:
            if raw_path.startswith("/api/v4/"):
                return self.gitlab(method, raw_path[len("/api/v4"):], query, data)
            if raw_path.startswith("/api/v1/"):
                return self.githublike("gitea", method, raw_path[len("/api/v1"):], query, data)
            return self.githublike("github", method, raw_path, query, data)
        except KeyError as e:
            return self.reply(422, {"message": "Validation Failed", "errors": [{"field": str(e), "code": "missing_field"}]})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_PUT(self):
        self.handle_any("PUT")

    def control(self, method, path, query, text):
        data = json.loads(text) if text else {}
        if path == "/_control/requests":
            return self.reply(200, STATE.requests)
        if path == "/_control/state":
            out = []
            for (kind, name), r in sorted(STATE.repos.items()):
                if query.get("kind", kind) != kind:
                    continue
                out.append({"kind": kind, "repo": name,
                             "issues": [{"number": i["_n"], "state": i["_state"], "title": i["title"], "body": i["body"],
                                         "comments": [c["body"] for c in i["_comments"]]} for i in r["issues"]],
                             "pulls": [{"number": p["_n"], "state": p["_state"], "head": p["head"], "base": p["base"],
                                        "title": p["title"], "body": p["body"]} for p in r["pulls"]]})
            return self.reply(200, out)
        if path == "/_control/token":
            ACCESS.update(data)
            return self.reply(200, ACCESS)
        if path == "/_control/reset":
            STATE.__init__()
            ACCESS.update({"scopes": "repo, workflow", "push": True, "has_issues": True})
            return self.reply(200, {})
        if path == "/_control/fault":
            if data.get("clear"):  # drop every fault; answer them, with when each fired
                faults, STATE.faults = STATE.faults, []
                return self.reply(200, faults)
            STATE.faults.append(data)
            return self.reply(200, {})
        if path in ("/_control/merge", "/_control/close_pull"):
            kind = data["kind"]
            for (k, _), r in STATE.repos.items():
                if k != kind:
                    continue
                for p in r["pulls"]:
                    if p["_n"] == data["number"]:
                        p["_state"] = "merged" if path.endswith("merge") else "closed"
                        p["_merged_by"] = data.get("user", "someone")
                        return self.reply(200, {})
            return self.reply(404, {"message": "no such pull"})
        return self.reply(404, {"message": "Not Found"})

    # ---- GitHub and Gitea --------------------------------------------------------
    def authorized(self, kind):
        if kind == "github":
            return self.headers.get("Authorization") == "Bearer " + TOKEN
        if kind == "gitea":
            return self.headers.get("Authorization") == "token " + TOKEN
        return TOKEN in (self.headers.get("PRIVATE-TOKEN"), self.headers.get("JOB-TOKEN"))

    def gh_issue(self, kind, name, i):
        labels = [{"id": l["id"], "name": l["name"], "color": l["color"].lstrip("#")} for l in i["_labels"]]
        out = {"id": i["_id"], "number": i["_n"], "title": i["title"], "body": i["body"], "state": i["_state"],
               "labels": labels, "user": user("cairn-bot"), "comments": len(i["_comments"]),
               "created_at": now(), "updated_at": now(), "closed_at": now() if i["_state"] == "closed" else None,
               "html_url": "%s/%s/issues/%d" % (BASE, name, i["_n"]),
               "url": "%s/repos/%s/issues/%d" % (BASE, name, i["_n"])}
        if kind == "gitea":
            out["pull_request"] = None
        return out

    def gh_pull(self, kind, name, p, full=True):
        merged = p["_state"] == "merged"
        owner = name.split("/")[0]
        out = {"id": p["_id"], "number": p["_n"], "title": p["title"], "body": p["body"],
               "state": "open" if p["_state"] == "open" else "closed",
               "head": {"ref": p["head"], "label": "%s:%s" % (owner, p["head"]), "sha": "0" * 40},
               "base": {"ref": p["base"], "label": "%s:%s" % (owner, p["base"]), "sha": "0" * 40},
               "merged_at": now() if merged else None, "user": user("cairn-bot"),
               "html_url": "%s/%s/pull/%d" % (BASE, name, p["_n"])}
        if full or kind == "gitea":
            out["merged"] = merged
            out["merged_by"] = user(p["_merged_by"]) if merged else None
        return out

    def page(self, items, query, size_key, default):
        size = int(query.get(size_key, default))
        page = int(query.get("page", 1))
        return items[(page - 1) * size: page * size]

    def githublike(self, kind, method, path, query, data):
        m = re.match(r"^/repos/([^/]+/[^/]+)(/.*)?$", path)
        if not m:
            return self.reply(404, {"message": "Not Found"})
        if not self.authorized(kind):
            return self.reply(401, {"message": "Bad credentials"})
        name, rest = m.group(1), m.group(2) or ""
        r = STATE.repo(kind, name)
        size_key = "limit" if kind == "gitea" else "per_page"
        if rest == "" and method == "GET":
            owner = name.split("/")[0]
            repo = {"id": 1, "name": name.split("/")[1], "full_name": name, "private": True,
                    "owner": user(owner), "html_url": "%s/%s" % (BASE, name), "default_branch": "main",
                    "has_issues": ACCESS["has_issues"],
                    "permissions": {"admin": False, "maintain": False, "push": ACCESS["push"], "triage": True,
                                    "pull": True}}
            hdrs = {"X-OAuth-Scopes": ACCESS["scopes"]} if kind == "github" and ACCESS["scopes"] is not None else {}
            return self.reply(200, repo, hdrs)
        if rest == "/labels" and kind == "gitea":
            if method == "GET":
                return self.reply(200, self.page([{"id": l["id"], "name": l["name"], "color": l["color"]} for l in r["labels"]], query, size_key, 30))
            if method == "POST":
                if any(l["name"] == data["name"] for l in r["labels"]):
                    return self.reply(409, {"message": "label already exists"})
                l = {"id": STATE.new_id(), "name": data["name"], "color": data["color"]}
                r["labels"].append(l)
                return self.reply(201, l)
        if rest == "/issues":
            if method == "GET":
                want = [x for x in query.get("labels", "").split(",") if x]
                state = query.get("state", "open")
                items = [i for i in reversed(r["issues"])
                         if all(w in [l["name"] for l in i["_labels"]] for w in want)
                         and (state == "all" or i["_state"] == state)]
                return self.reply(200, self.page([self.gh_issue(kind, name, i) for i in items], query, size_key, 30))
            if method == "POST":
                if not isinstance(data.get("title"), str):
                    return self.reply(422, {"message": "Validation Failed"})
                labels = []
                for l in data.get("labels", []):
                    if kind == "gitea":
                        if not isinstance(l, int):
                            return self.reply(422, {"message": "labels must be ids"})
                        found = [x for x in r["labels"] if x["id"] == l]
                        if not found:
                            return self.reply(422, {"message": "label %d does not exist" % l})
                        labels.append(found[0])
                    else:
                        if not isinstance(l, str):
                            return self.reply(422, {"message": "labels must be names"})
                        found = [x for x in r["labels"] if x["name"] == l]
                        if not found:  # GitHub creates missing labels
                            found = [{"id": STATE.new_id(), "name": l, "color": "ededed"}]
                            r["labels"].append(found[0])
                        labels.append(found[0])
                i = {"_id": STATE.new_id(), "_n": number_for(r), "title": data["title"], "body": data.get("body", ""),
                     "_state": "open", "_labels": labels, "_comments": []}
                r["issues"].append(i)
                return self.reply(201, self.gh_issue(kind, name, i))
        m = re.match(r"^/issues/(\d+)(/comments)?$", rest)
        if m:
            found = [i for i in r["issues"] if i["_n"] == int(m.group(1))]
            if not found:
                return self.reply(404, {"message": "Not Found"})
            i = found[0]
            if m.group(2):
                if method == "POST":
                    c = {"id": STATE.new_id(), "body": data["body"], "user": user("cairn-bot"), "created_at": now()}
                    i["_comments"].append(c)
                    return self.reply(201, c)
                if method == "GET":
                    return self.reply(200, self.page(i["_comments"], query, size_key, 30))
            elif method == "PATCH":
                if "state" in data:
                    if data["state"] not in ("open", "closed"):
                        return self.reply(422, {"message": "Validation Failed"})
                    i["_state"] = data["state"]
                if "body" in data:
                    if not isinstance(data["body"], str):
                        return self.reply(422, {"message": "Validation Failed"})
                    i["body"] = data["body"]
                return self.reply(200 if kind == "github" else 201, self.gh_issue(kind, name, i))
            elif method == "GET":
                return self.reply(200, self.gh_issue(kind, name, i))
        if rest == "/pulls":
            if method == "GET":
                state = query.get("state", "open")
                head = query.get("head")
                if kind == "gitea" and head is not None:
                    return self.reply(422, {"message": "unknown parameter head"})
                items = [p for p in reversed(r["pulls"])
                         if (state == "all" or (p["_state"] == "open") == (state == "open"))
                         and (head is None or head == "%s:%s" % (name.split("/")[0], p["head"]))]
                return self.reply(200, self.page([self.gh_pull(kind, name, p, full=False) for p in items], query, size_key, 30))
            if method == "POST":
                for k in ("title", "head", "base"):
                    if not isinstance(data.get(k), str):
                        return self.reply(422, {"message": "Validation Failed", "errors": [{"field": k}]})
                if any(p["head"] == data["head"] and p["base"] == data["base"] and p["_state"] == "open" for p in r["pulls"]):
                    if kind == "gitea":
                        return self.reply(409, {"message": "pull request already exists for these targets"})
                    return self.reply(422, {"message": "Validation Failed",
                                            "errors": [{"resource": "PullRequest", "code": "custom",
                                                        "message": "A pull request already exists for o:%s." % data["head"]}]})
                p = {"_id": STATE.new_id(), "_n": number_for(r), "title": data["title"], "body": data.get("body", ""),
                     "head": data["head"], "base": data["base"], "_state": "open", "_merged_by": ""}
                r["pulls"].append(p)
                return self.reply(201, self.gh_pull(kind, name, p))
        m = re.match(r"^/pulls/(\d+)$", rest)
        if m and method == "GET":
            found = [p for p in r["pulls"] if p["_n"] == int(m.group(1))]
            if not found:
                return self.reply(404, {"message": "Not Found"})
            return self.reply(200, self.gh_pull(kind, name, found[0]))
        return self.reply(404, {"message": "Not Found"})

    # ---- GitLab ------------------------------------------------------------------
    def gl_issue(self, name, i):
        return {"id": i["_id"], "iid": i["_n"], "project_id": 1, "title": i["title"], "description": i["body"],
                "state": "opened" if i["_state"] == "open" else "closed", "labels": [l["name"] for l in i["_labels"]],
                "author": gl_user("cairn-bot"), "created_at": now(), "updated_at": now(),
                "web_url": "%s/%s/-/issues/%d" % (BASE, name, i["_n"])}

    def gl_mr(self, name, p):
        return {"id": p["_id"], "iid": p["_n"], "project_id": 1, "title": p["title"], "description": p["body"],
                "state": {"open": "opened"}.get(p["_state"], p["_state"]), "source_branch": p["head"],
                "target_branch": p["base"], "author": gl_user("cairn-bot"),
                "merged_by": gl_user(p["_merged_by"]) if p["_state"] == "merged" else None,
                "merge_user": gl_user(p["_merged_by"]) if p["_state"] == "merged" else None,
                "web_url": "%s/%s/-/merge_requests/%d" % (BASE, name, p["_n"])}

    def gitlab(self, method, path, query, data):
        # The project id arrives URL-encoded ("group%2Fproject"): match on the raw path.
        m = re.match(r"^/projects/([^/]+)(/.*)?$", path)
        if not m:
            return self.reply(404, {"message": "404 Not Found"})
        if not self.authorized("gitlab"):
            return self.reply(401, {"message": "401 Unauthorized"})
        name, rest = urllib.parse.unquote(m.group(1)), m.group(2) or ""
        r = STATE.repo("gitlab", name)
        if rest == "" and method == "GET":
            level = 30 if ACCESS["push"] else 20  # Developer / Reporter
            return self.reply(200, {"id": 1, "name": name.split("/")[-1], "path_with_namespace": name,
                                    "web_url": "%s/%s" % (BASE, name), "default_branch": "main",
                                    "issues_enabled": ACCESS["has_issues"],
                                    "permissions": {"project_access": {"access_level": level, "notification_level": 3},
                                                    "group_access": None}})
        if rest == "/issues":
            if method == "GET":
                want = [x for x in query.get("labels", "").split(",") if x]
                state = query.get("state", "all")
                items = [i for i in reversed(r["issues"])
                         if all(w in [l["name"] for l in i["_labels"]] for w in want)
                         and (state == "all" or (i["_state"] == "open") == (state == "opened"))]
                return self.reply(200, self.page([self.gl_issue(name, i) for i in items], query, "per_page", 20))
            if method == "POST":
                if not isinstance(data.get("title"), str) or not isinstance(data.get("labels", ""), str):
                    return self.reply(400, {"message": "title is missing / labels must be a string"})
                labels = [{"id": 0, "name": l, "color": "#ededed"} for l in data.get("labels", "").split(",") if l]
                n = len(r["issues"]) + 1
                i = {"_id": STATE.new_id(), "_n": n, "title": data["title"], "body": data.get("description", ""),
                     "_state": "open", "_labels": labels, "_comments": []}
                r["issues"].append(i)
                return self.reply(201, self.gl_issue(name, i))
        m = re.match(r"^/issues/(\d+)(/notes)?$", rest)
        if m:
            found = [i for i in r["issues"] if i["_n"] == int(m.group(1))]
            if not found:
                return self.reply(404, {"message": "404 Issue Not Found"})
            i = found[0]
            if m.group(2) and method == "GET":
                return self.reply(200, self.page(list(reversed(i["_comments"])), query, "per_page", 20))
            if m.group(2) and method == "POST":
                note = {"id": STATE.new_id(), "body": data["body"], "author": gl_user("cairn-bot"), "system": False,
                        "noteable_type": "Issue", "noteable_iid": i["_n"], "created_at": now()}
                i["_comments"].append(note)
                return self.reply(201, note)
            if not m.group(2) and method == "PUT":
                ev = data.get("state_event")
                if ev not in (None, "close", "reopen"):
                    return self.reply(400, {"message": "state_event does not have a valid value"})
                if ev:
                    i["_state"] = "closed" if ev == "close" else "open"
                if "description" in data:
                    i["body"] = data["description"]
                return self.reply(200, self.gl_issue(name, i))
        if rest == "/merge_requests":
            if method == "GET":
                state = query.get("state", "all")
                src = query.get("source_branch")
                items = [p for p in reversed(r["pulls"])
                         if (state == "all" or self.gl_mr(name, p)["state"] == state)
                         and (src is None or p["head"] == src)]
                return self.reply(200, self.page([self.gl_mr(name, p) for p in items], query, "per_page", 20))
            if method == "POST":
                for k in ("source_branch", "target_branch", "title"):
                    if not isinstance(data.get(k), str):
                        return self.reply(400, {"message": "%s is missing" % k})
                if any(p["head"] == data["source_branch"] and p["_state"] == "open" for p in r["pulls"]):
                    return self.reply(409, {"message": ["Another open merge request already exists for this source branch: !1"]})
                p = {"_id": STATE.new_id(), "_n": len(r["pulls"]) + 1, "title": data["title"],
                     "body": data.get("description", ""), "head": data["source_branch"],
                     "base": data["target_branch"], "_state": "open", "_merged_by": ""}
                r["pulls"].append(p)
                return self.reply(201, self.gl_mr(name, p))
        m = re.match(r"^/merge_requests/(\d+)$", rest)
        if m and method == "GET":
            found = [p for p in r["pulls"] if p["_n"] == int(m.group(1))]
            if not found:
                return self.reply(404, {"message": "404 Not found"})
            return self.reply(200, self.gl_mr(name, found[0]))
        return self.reply(404, {"message": "404 Not Found"})


def main():
    global TOKEN, LOG
    ap = argparse.ArgumentParser()
    ap.add_argument("--token", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    a = ap.parse_args()
    TOKEN = a.token
    if a.log:
        LOG = open(a.log, "a")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
