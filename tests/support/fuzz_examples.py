"""What one fuzz example does on the portal: a plan from tests/support/fuzz_plans.py mapped onto the routes,
forms and ids that exist when it runs. And the sweep that comes before the random examples."""
from __future__ import annotations

import re

from tests.support.fuzz_archives import good_upload
from tests.support.fuzz_client import AUTO, FormReader
from tests.support.fuzz_http import KNOWN_TRAPS, Part, multipart
from tests.support.fuzz_payloads import PLAUSIBLE, VALID, encode_text, photos, repeated
from tests.support.fuzz_plans import ODD_INTS, STATIC_PATHS, FieldPlan, FormPlan, ProtocolPlan, RoutePlan
from tests.support.fuzz_portal import ROLES, FuzzPortal

ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
FRAMING = re.compile(r"[\x00-\x20\x7f]")


def pick(items, number):
    return items[number % len(items)]


def fill_rule(rule: str, arguments, pools: dict) -> str:
    """``rule`` with each converter filled as its Argument says."""
    values = iter(arguments)

    def value(match):
        converter, name, plan = match.group(1) or "default", match.group(2), next(values)
        known = pools.get(name) or []
        if converter == "path":
            return pick(STATIC_PATHS, plan.number)
        if plan.choice < 2 and known:
            return str(pick(known, plan.number))
        if converter == "int":
            return str(pick(ODD_INTS, plan.number) if plan.choice == 2 else plan.number)
        if plan.percent_encoded:
            return "".join(f"%{byte:02X}" for byte in encode_text(plan.text))
        # as typed, but whitespace and control characters escaped: raw, they would break the request line
        return FRAMING.sub(lambda c: "".join(f"%{byte:02X}" for byte in c.group().encode()), plan.text)

    return ARGUMENT.sub(value, rule)


def with_query(target: str, query: str) -> str:
    return target + (("&" if "?" in target else "?") + query if query else "")


def run_route(portal: FuzzPortal, role: str, plan: RoutePlan, pools: dict):
    rule, methods, _ = pick(portal.rules, plan.rule)
    method = pick(methods, plan.method) if isinstance(plan.method, int) else plan.method
    headers, body = list(plan.headers), b""
    if method not in ("GET", "HEAD", "OPTIONS"):
        parts = [Part(plan.field[0], encode_text(plan.field[1]))]
        if plan.with_csrf:
            parts.append(Part("csrf_token", portal.tokens.get(role, "").encode()))
        content_type, body = plan.encode_body(parts)
        headers.append(("Content-Type", content_type))
    portal.send(role, method, with_query(fill_rule(rule, plan.arguments, pools), plan.query), headers, body,
                what=f"query={plan.query[:120]!r} headers={headers!r:.300} body={body[:120]!r}")


KEEP = FieldPlan("keep", 0, "")


def part_for(field, plan: FieldPlan, form_plan: FormPlan, upload) -> Part | None:
    if field.kind == "file" and plan is KEEP:  # as staff would send it
        if field.name == "archive":
            return Part(field.name, good_upload()[0], "photos.zip", "application/zip")
        if field.name == "manifest":
            return Part(field.name, good_upload()[1], "manifest.csv", "text/csv")
        return Part(field.name, photos()[form_plan.photo], "face.jpg", "image/jpeg")
    if field.kind == "file":
        if field.name == "archive":
            return Part(field.name, upload[0], form_plan.zip_name, "application/zip")
        if field.name == "manifest":
            return None if upload[1] is None else Part(field.name, upload[1], form_plan.csv_name, "text/csv")
        return Part(field.name, form_plan.picture, form_plan.picture_name, form_plan.picture_type)
    how = plan.how
    if field.name == "csrf_token" and how != "keep" and plan.number % 3:
        how = "keep"  # mostly the real token, so the fuzz reaches what the form does
    if how == "omit":
        return None
    if how == "keep" and plan is KEEP:
        value = field.value or VALID.get(field.name, "")
    elif how == "keep":
        value = pick(field.options, plan.number) if field.kind == "select" and field.options else field.value
    elif how == "plausible" and field.name in PLAUSIBLE:
        value = pick(PLAUSIBLE[field.name], plan.number)
    else:
        value = plan.text
    return Part(field.name, encode_text(value))


def run_form(portal: FuzzPortal, role: str, plan: FormPlan):
    everyone = [entry for entries in portal.forms.values() for entry in entries]
    page, index, discovered = pick(portal.forms.get(role) or everyone, plan.form)
    fresh = FormReader.read(portal.send(role, "GET", page).text)  # a fresh CSRF token and submission id
    # Not on the page for this role (signed out, not allowed, job finished): sent as another role saw it.
    form = fresh[index] if index < len(fresh) else discovered
    upload = plan.upload() if any(field.name == "archive" for field in form.fields) else None
    field_plans = plan.fields * 3
    if plan.nearly_valid:
        field_plans = [KEEP] * len(form.fields)
        if form.fields:
            field_plans[plan.mutated % len(form.fields)] = plan.fields[0]
    parts = [part for field, field_plan in zip(form.fields, field_plans)
             if (part := part_for(field, field_plan, plan, upload)) is not None]
    if plan.extra_field and not plan.nearly_valid:
        parts.append(Part(plan.extra_field[0], encode_text(plan.extra_field[1])))
    if plan.every_field_twice and not plan.nearly_valid:
        parts += parts
    if plan.nearly_valid:
        content_type, body = "multipart/form-data; boundary=nearly-valid", multipart(parts, b"nearly-valid")
    else:
        content_type, body = plan.encode_body(parts)
    portal.script_vendor(plan.vendor_answer)
    target = with_query(form.action or page, "" if plan.nearly_valid else plan.query)
    headers = [("Content-Type", content_type)] + ([] if plan.nearly_valid else list(plan.headers))
    method = form.method if plan.nearly_valid else plan.odd_method or form.method
    portal.send(role, method, target, headers, body,
                what=f"form on {page} fields={[(p.name, p.value[:40], p.filename) for p in parts]!r:.500} "
                     f"content-type={content_type[:80]!r} query={plan.query[:80]!r} headers={plan.headers!r:.200} "
                     f"vendor={plan.vendor_answer!r:.80}")


def run_protocol(portal: FuzzPortal, role: str, plan: ProtocolPlan, pools: dict):
    """A request broken below the application: lengths that lie, chunking, request lines, header lines."""
    rule, methods, _ = pick(portal.rules, plan.rule)
    target = fill_rule(rule, plan.arguments, pools)
    body = encode_text(f"csrf_token={portal.tokens.get(role, '')}&faceSetId=demo&x=" + plan.text)
    headers = [("Content-Type", "application/x-www-form-urlencoded")]
    length, version, variant = AUTO, b"HTTP/1.1", plan.variant
    if plan.kind == "length":
        length = pick([0, len(body) - 5, len(body) + 50, -1, "abc", 10 ** 20, "5, 6", " 5"], variant)
    elif plan.kind == "chunked":
        headers.append(("Transfer-Encoding", "chunked"))
        length = pick([None, AUTO], variant)
        body = pick([b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n", b"zz\r\nabc\r\n", b"ffffffffffffffff\r\nabc",
                     b"5\r\nabc"], variant // 2)
    elif plan.kind == "version":
        version = b"HTTP/1.0"  # (other versions: the test server answers without a status line)
    elif plan.kind == "target":
        target = pick(["http://evil.example" + target, "*", target.lstrip("/"), target + "#frag",
                       "/" + repeated("a", 10_000), "/" + repeated("a", 70_000),
                       encode_text(target) + b"/\xe9\xff", target + "?\x00"], variant)
    elif plan.kind == "header lines":
        headers += pick([[("NoColonHere", None)], [("X-Folded", "a\r\n continued")], [(" Leading", "space")],
                         [("X-Inject", "a\r\nX-Injected: 1")], [("X-Nul", "a\x00b")]], variant)
    else:
        headers += [(f"X-H{i}", "v") for i in range(pick([90, 120, 1000], variant))]
    method = pick(methods + ["POST"], variant)
    portal.send(role, method, target, headers, body, length, version,
                what=f"protocol: {plan.kind} length={length if length is not AUTO else 'auto'} version={version!r}")


def run_plan(portal: FuzzPortal, role_and_plan, state: dict):
    """One Hypothesis example. ``state`` holds the ids that exist (looked up now and then) and the
    number of requests to stop at (0: none)."""
    if state["stop at"] and portal.sent >= state["stop at"]:
        return
    if state.setdefault("examples", 0) % 25 == 0:
        state["pools"] = portal.pools()
    state["examples"] += 1
    role, plan = role_and_plan
    portal.prepare()
    try:
        if isinstance(plan, RoutePlan):
            run_route(portal, role, plan, state["pools"])
        elif isinstance(plan, FormPlan):
            run_form(portal, role, plan)
        else:
            run_protocol(portal, role, plan, state["pools"])
    finally:
        portal.script_vendor(None)


def fill_known(rule: str, pools: dict, huge: bool = False) -> str:
    """``rule`` with the first id that exists in each converter, or (``huge``) numbers past any database's."""
    def value(match):
        if huge and match.group(1) == "int":
            return str(2 ** 63)
        return str((pools.get(match.group(2)) or ["x"])[0])

    return ARGUMENT.sub(value, rule)


def sweep(portal: FuzzPortal, traps: bool = True) -> None:
    """Before the random examples, so that none is left to chance: every route with each of its methods
    as every role (ids that exist, and ids past SQLite's integers; a POST with the role's CSRF token), and
    (``traps``) every known trap in the query of every page, as an administrator."""
    pools = portal.pools()
    for rule, methods, _ in portal.rules:
        targets = {fill_known(rule, pools), fill_known(rule, pools, huge=True)}
        for role in ROLES:
            portal.prepare()
            for method in methods:
                for target in sorted(targets):
                    body = f"csrf_token={portal.tokens.get(role, '')}".encode() if method == "POST" else b""
                    portal.send(role, method, target, [("Content-Type", "application/x-www-form-urlencoded")],
                                body, what="sweep")
        if traps and "GET" in methods and not rule.startswith("/static"):
            for trap in KNOWN_TRAPS:
                portal.prepare()
                portal.send("admin", "GET", with_query(fill_known(rule, pools), trap), what="sweep")
