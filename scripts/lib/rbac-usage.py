#!/usr/bin/env python3
"""Least privilege, from the simulated API server's request log: every request a service account
made was allowed, and every permission its Roles and ClusterRoles grant was used.
Usage: rbac-usage.py USER ROLES.json REQUESTS.jsonl...
  USER: system:serviceaccount:NAMESPACE:NAME; ROLES.json: `kubectl get role,clusterrole -o json`
  of the roles to judge; REQUESTS.jsonl: `sim serve --request-log` files.
Prints what is wrong and exits 1, or prints a count and exits 0."""
import json, sys, urllib.parse
user, roles_file, logs = sys.argv[1], sys.argv[2], sys.argv[3:]
def attributes(entry):
    parts = entry["path"].strip("/").split("/")
    if parts[0] == "api": group, rest = "", parts[2:]
    elif parts[0] == "apis" and len(parts) > 3: group, rest = parts[1], parts[3:]
    else: return None
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces": namespace, rest = rest[1], rest[2:]
    resource, name, sub = rest[0], (rest[1] if len(rest) > 1 else None), (rest[2] if len(rest) > 2 else None)
    method = entry["method"]
    if method == "GET":
        query = [p for p in entry["query"].split("&") if p]
        watch = any(p in ("watch=true", "watch=1") for p in query)
        verb = "watch" if watch else ("get" if name else "list")
        # The apiserver authorizes a list/watch narrowed by fieldSelector=metadata.name=X as a request for X.
        for p in query:
            key, _, value = p.partition("=")
            value = urllib.parse.unquote(value)
            if name is None and key == "fieldSelector" and value.startswith("metadata.name=") and "," not in value:
                name = value[len("metadata.name="):]
    elif method == "DELETE":
        verb = "delete" if name else "deletecollection"
    else:
        verb = {"POST": "create", "PUT": "update", "PATCH": "patch"}[method]
    return (group, resource + ("/" + sub if sub else ""), verb, namespace, name)
used, denied = set(), []
for log in logs:
    for line in open(log):
        entry = json.loads(line)
        if entry.get("user") != user: continue
        a = attributes(entry)
        if a is None: continue
        used.add(a)
        if entry["status"] == 403: denied.append(a)
granted = []
for role in json.load(open(roles_file))["items"]:
    ns = role["metadata"].get("namespace")
    for rule in role.get("rules", []):
        for g in rule.get("apiGroups", []):
            for r in rule.get("resources", []):
                for v in rule.get("verbs", []):
                    granted.append((role["kind"], role["metadata"]["name"], g, r, v, ns, tuple(rule.get("resourceNames", []))))
ok = True
if denied:
    ok = False; print("requests the service account was refused:", sorted(set(denied)))
if not used:
    ok = False; print("no request of", user, "in the logs")
for kind, name, g, r, v, ns, names in granted:
    # A wait lists first and watches only when the object is not ready yet (on a real cluster,
    # a manager still rolling out): a watch grant counts as used when its list was.
    verbs = ("watch", "list") if v == "watch" else (v,)
    hit = [u for u in used if u[0] == g and u[1] == r and u[2] in verbs and (ns is None or u[3] == ns) and (not names or u[4] in names)]
    if not hit:
        ok = False; print(f"granted but never used: {kind}/{name} {v} {r or '?'} in group '{g}'" + (f" names {list(names)}" if names else ""))
print(f"{len(used)} distinct requests, {len(granted)} grants")
sys.exit(0 if ok else 1)
