"""The dashboard's web app: server-rendered pages (Sanic + Jinja2, no JavaScript).

Rules every route follows:
- a page needs a signed-in member of staff (else: GET goes to the sign-in page, anything
  else gets 401), and the roles it names;
- every POST carries the session's CSRF token; nothing changes on a GET;
- a conversation is looked up through `find_conversation`, which answers 404 for another
  council's conversation exactly as for one that does not exist;
- every view, download and change is written to the audit log.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import secrets
from pathlib import Path
from typing import Callable, Optional

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Sanic, response
from sanic.exceptions import NotFound
from sanic.request import Request
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.channels.safety import clean_text
from bot.dashboard import auth, reports, subject
from bot.dashboard.conversations import (
    CHANNEL_LABELS,
    Filters,
    find_conversation,
    list_conversations,
    load_conversations,
    notes,
    personal_slot_values,
    transcript,
    transcripts,
    visible_to,
)
from bot.dashboard.settings import DashboardSettings
from knowledge.db import CouncilRow
from knowledge.topics import all_topic_ids, topic_title
from services.models import Referral, utcnow
from services.redact import redact_text
from services.referrals import STATUSES, apply_status, is_undelivered
from services.staff import AuditEntry, ConversationNote, ConversationTag, StaffUser

HERE = Path(__file__).resolve().parent
MAX_ID = 2**31 - 1  # the largest id an INTEGER column holds on PostgreSQL (a larger one overflowed to a 500)
SESSION_COOKIE = "pf_session"
LOGIN_CSRF_COOKIE = "pf_login_csrf"
LOGIN_ERROR = "That e-mail address and password did not match, or there have been too many attempts. Please try again later."
FORM_EXPIRED = "This form has expired. Go back, reload the page and try again."
MAX_TAG, MAX_NOTE = 60, 4000
AUDIT_PAGE = 500
LIST_LIMIT = 300  # newest first; filters narrow the rest down


def client_address(request: Request) -> str:
    """The client's address: the proxy's forwarded one when PROXIES_COUNT is set, else the peer."""
    return request.remote_addr or request.ip or "unknown"


def templates() -> Environment:
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(["html"]))
    env.globals["channel_labels"] = CHANNEL_LABELS
    return env


def set_cookie(resp, name: str, value: str, max_age: Optional[int] = None) -> None:
    """Secure, HttpOnly, SameSite=Strict, whole site: browsers treat http://localhost as secure."""
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["path"] = "/"
    cookie["secure"] = True
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    if max_age is not None:
        cookie["max-age"] = max_age


def field(values, name: str) -> str:
    """A form field or query argument as text every database takes: PostgreSQL refuses NUL,
    so one in a note, a tag, a filter or a sign-in e-mail made the page a 500 (#16)."""
    return clean_text(values.get(name) or "")


def parse_filters(request: Request, staff: auth.Staff) -> Filters:
    """The list's filters from the query string; a non-admin's council is always their own."""
    args = {name: field(request.args, name) for name in request.args}

    def day(name: str) -> Optional[dt.date]:
        try:
            return dt.date.fromisoformat(args.get(name, "")) if args.get(name) else None
        except ValueError:
            return None

    def flag(name: str) -> bool:
        return args.get(name) in ("1", "on", "yes")

    channel = args.get("channel") if args.get("channel") in CHANNEL_LABELS else None
    return Filters(since=day("from"), until=day("to"),
                   council=(args.get("council") or None) if staff.is_admin else staff.council_id,
                   channel=channel, topic=args.get("topic") or None, fallback=flag("fallback"),
                   handoff=flag("handoff"), crisis=flag("crisis"), tag=args.get("tag") or None)


def create_app(engine: Engine, settings: DashboardSettings, key: bytes, name: str = "pathfinder_dashboard") -> Sanic:
    app = Sanic(name)
    # Behind a reverse proxy, trust its X-Forwarded-For (so throttling sees the real address).
    app.config.PROXIES_COUNT = settings.proxies_count
    jinja = templates()

    def render(request: Request, template: str, status: int = 200, **context) -> response.HTTPResponse:
        context.setdefault("staff", getattr(request.ctx, "staff", None))
        return response.html(jinja.get_template(template).render(**context), status=status)

    def log(request: Request, action: str, target: Optional[str] = None, detail: Optional[str] = None) -> None:
        staff = getattr(request.ctx, "staff", None)
        auth.audit(engine, staff.email if staff else "(anonymous)", action, target, detail, client_address(request))

    def page(roles: tuple = ()) -> Callable:
        """Decorator: sign-in required, the given roles (empty: any), CSRF checked on POST."""

        def wrap(handler):
            @functools.wraps(handler)
            async def guarded(request: Request, *args, **kwargs):
                staff = request.ctx.staff
                if staff is None:
                    if request.method == "GET":
                        return response.redirect("/login")
                    return response.text("Please sign in.", status=401)
                if roles and staff.role not in roles:
                    return render(request, "message.html", status=403, title="Not allowed",
                                  message="Your role does not include this page.")
                if request.method == "POST" and not auth.csrf_ok(staff.csrf_token, request.form.get("csrf_token")):
                    log(request, "csrf_refused", None, handler.__name__)  # not the path: it may hold a raw id
                    return render(request, "message.html", status=403, title="Form expired", message=FORM_EXPIRED)
                return await handler(request, staff, *args, **kwargs)

            return guarded

        return wrap

    def referral_or_404(session: Session, staff: auth.Staff, referral_id: int) -> Referral:
        """The referral if it is of the staff member's council (another council's: not found).

        An id past what the database's integer holds is not found either (it answered 500:
        OverflowError on SQLite, a DataError on PostgreSQL)."""
        if not 0 < referral_id <= MAX_ID:
            raise NotFound("No such referral")
        referral = session.get(Referral, referral_id)
        if referral is None or (staff.scope_council and referral.council_id != staff.scope_council):
            raise NotFound("No such referral")
        return referral

    def conversation_or_404(staff: auth.Staff, wanted: str):
        if clean_text(wanted) != wanted:  # no conversation id holds NUL or a lone surrogate
            raise NotFound("No such conversation")
        conversation = find_conversation(engine, key, staff.scope_council, wanted)
        if conversation is None:
            raise NotFound("No such conversation")
        return conversation

    @app.middleware("request")
    async def load_staff(request: Request):
        request.ctx.staff = auth.current_staff(engine, settings, request.cookies.get(SESSION_COOKIE), utcnow())

    @app.middleware("response")
    async def security_headers(request: Request, resp):
        resp.headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["X-Frame-Options"] = "DENY"
        if not request.path.startswith("/static/"):
            resp.headers["Cache-Control"] = "no-store"

    @app.exception(NotFound)
    async def not_found(request: Request, _error):
        if not hasattr(request.ctx, "staff"):
            request.ctx.staff = None
        return render(request, "message.html", status=404, title="Not found",
                      message="There is nothing here, or it is not yours to see.")

    app.static("/static", str(HERE / "static"), name="static")

    @app.get("/")
    async def home(request: Request):
        return response.redirect("/conversations" if request.ctx.staff else "/login")

    @app.get("/login")
    async def login_form(request: Request):
        token = secrets.token_urlsafe(32)
        resp = render(request, "login.html", csrf_token=token, error=None, email="")
        set_cookie(resp, LOGIN_CSRF_COOKIE, token, max_age=3600)
        return resp

    @app.post("/login")
    async def login(request: Request):
        form_token = request.form.get("csrf_token")
        email = auth.normalise_email(field(request.form, "email"))
        password = request.form.get("password", "")  # hashed, never stored or queried as it is
        if not auth.csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE), form_token):
            return render(request, "message.html", status=403, title="Form expired", message=FORM_EXPIRED)
        ip = client_address(request)

        def refuse(status: int):
            return render(request, "login.html", status=status, csrf_token=form_token, error=LOGIN_ERROR, email=email)

        if auth.too_many_failures(engine, settings, email, ip, utcnow()):
            auth.audit(engine, email or "(blank)", "login_throttled", None, None, ip)
            return refuse(429)
        user = auth.check_password(engine, email, password)
        auth.record_attempt(engine, email, ip, user is not None, utcnow())
        if user is None:
            auth.audit(engine, email or "(blank)", "login_failed", None, None, ip)
            return refuse(401)
        auth.end_session(engine, request.cookies.get(SESSION_COOKIE))  # never keep a pre-login session
        token = auth.start_session(engine, user.id, utcnow())
        auth.audit(engine, user.email, "login", None, None, ip)
        resp = response.redirect("/conversations", status=303)
        set_cookie(resp, SESSION_COOKIE, token)
        set_cookie(resp, LOGIN_CSRF_COOKIE, "", max_age=0)
        return resp

    @app.post("/logout")
    @page()
    async def logout(request: Request, staff: auth.Staff):
        log(request, "logout")
        auth.end_session(engine, request.cookies.get(SESSION_COOKIE))
        resp = response.redirect("/login", status=303)
        set_cookie(resp, SESSION_COOKIE, "", max_age=0)
        return resp

    @app.get("/conversations")
    @page()
    async def conversation_list(request: Request, staff: auth.Staff):
        filters = parse_filters(request, staff)
        found = list_conversations(engine, key, staff.scope_council, filters)
        log(request, "view_list", None, json.dumps({k: str(v) for k, v in filters.__dict__.items() if v}))
        return render(request, "conversations.html", conversations=found[:LIST_LIMIT], total=len(found),
                      filters=filters, args=request.args, councils=council_names(),
                      topics=[(topic, topic_title(topic)) for topic in all_topic_ids()])

    def council_names() -> list:
        """(id, name) of the councils whose offer is loaded, for the admin's council filter."""
        with Session(engine) as session:
            return [(row.id, row.name) for row in session.execute(select(CouncilRow).order_by(CouncilRow.name)).scalars()]

    @app.get("/conversations/<wanted:str>")
    @page()
    async def conversation_view(request: Request, staff: auth.Staff, wanted: str):
        conversation = conversation_or_404(staff, wanted)
        if wanted != conversation.display_id:  # a raw id from a referral e-mail: show the pseudonym instead
            return response.redirect(f"/conversations/{conversation.display_id}")
        log(request, "view_conversation", conversation.display_id)
        return render(request, "transcript.html", conversation=conversation, turns=transcript(engine, conversation),
                      notes=notes(engine, conversation), slots=personal_slot_values(engine, conversation))

    @app.get("/conversations/<wanted:str>/transcript.csv")
    @page()
    async def conversation_csv(request: Request, staff: auth.Staff, wanted: str):
        conversation = conversation_or_404(staff, wanted)
        log(request, "export_transcript", conversation.display_id)
        rows = [[t.at.isoformat(timespec="seconds") if t.at else "", t.speaker, t.text, t.topic or "", t.intent or "",
                 f"{t.confidence:.2f}" if t.confidence is not None else ""] for t in transcript(engine, conversation)]
        table = reports.Table(f"Transcript {conversation.display_id} (redacted, times UTC)",
                              ["time", "speaker", "text", "topic", "intent", "confidence"], rows)
        return csv_download(reports.to_csv([table]), f"{conversation.display_id}.csv")

    @app.post("/conversations/<wanted:str>/tags")
    @page()
    async def add_tag(request: Request, staff: auth.Staff, wanted: str):
        conversation = conversation_or_404(staff, wanted)
        tag = " ".join(field(request.form, "tag").split()).lower()[:MAX_TAG]
        if tag:
            try:
                with Session(engine) as session, session.begin():
                    session.add(ConversationTag(conversation_id=conversation.conversation_id, tag=tag, created_by=staff.email))
            except IntegrityError:
                pass  # already tagged: adding it again changes nothing
            log(request, "tag", conversation.display_id, tag)
        return response.redirect(f"/conversations/{conversation.display_id}", status=303)

    @app.post("/conversations/<wanted:str>/notes")
    @page()
    async def add_note(request: Request, staff: auth.Staff, wanted: str):
        conversation = conversation_or_404(staff, wanted)
        text = field(request.form, "note").strip()[:MAX_NOTE]
        if text:
            with Session(engine) as session, session.begin():
                session.add(ConversationNote(conversation_id=conversation.conversation_id, text=text, created_by=staff.email))
            log(request, "note", conversation.display_id)
        return response.redirect(f"/conversations/{conversation.display_id}", status=303)

    @app.get("/referrals")
    @page(roles=auth.MANAGER_ROLES)
    async def referral_list(request: Request, staff: auth.Staff):
        found = reports.referrals_in_scope(engine, reports.Scope(staff.scope_council))
        # One read for every referral's conversation (find_conversation's rule, without a read each).
        loaded = load_conversations(engine, key, {r.conversation_id for r in found}, council=staff.scope_council)
        displays = {cid: c for cid, c in loaded.items() if visible_to(c, staff.scope_council)}
        # An urgent referral whose e-mail is overdue is said so: the team may not know of it.
        late, now = dt.timedelta(minutes=settings.urgent_undelivered_minutes), utcnow()
        undelivered = {r.id for r in found if is_undelivered(r, now, late)}
        log(request, "view_referrals")
        return render(request, "referrals.html", referrals=found, conversations=displays, statuses=STATUSES,
                      redact=redact_text, undelivered=undelivered)

    @app.get("/referrals/<referral_id:int>/conversation")
    @page()
    async def referral_conversation(request: Request, staff: auth.Staff, referral_id: int):
        """The link in a referral e-mail, which names the referral and not the conversation:
        any staff member of the referral's council is sent on to its conversation's page."""
        with Session(engine) as session:
            conversation_id = referral_or_404(session, staff, referral_id).conversation_id
        return response.redirect(f"/conversations/{conversation_or_404(staff, conversation_id).display_id}")

    @app.post("/referrals/<referral_id:int>/status")
    @page(roles=auth.MANAGER_ROLES)
    async def referral_status(request: Request, staff: auth.Staff, referral_id: int):
        status = request.form.get("status")
        if status not in STATUSES:
            return render(request, "message.html", status=400, title="Unknown status",
                          message=f"The status must be one of: {', '.join(STATUSES)}.")
        with Session(engine) as session, session.begin():
            apply_status(referral_or_404(session, staff, referral_id), status, utcnow())
        log(request, "referral_status", f"referral {referral_id}", status)
        return response.redirect("/referrals", status=303)

    @app.post("/referrals/<referral_id:int>/contact")
    @page(roles=auth.MANAGER_ROLES)
    async def referral_contact(request: Request, staff: auth.Staff, referral_id: int):
        """The contact details a young person gave for their own referral: the one place they
        are shown, to a manager of their council, on purpose (a POST) and audited, because
        the referral e-mail leaves them out and the team needs them to call back."""
        with Session(engine) as session:
            referral = referral_or_404(session, staff, referral_id)
            session.expunge(referral)
        log(request, "view_referral_contact", f"referral {referral_id}")
        return render(request, "referral_contact.html", referral=referral)

    def report_scope(request: Request, staff: auth.Staff) -> reports.Scope:
        filters = parse_filters(request, staff)
        return reports.Scope(filters.council, filters.since, filters.until)

    # The reports read and group every conversation in scope (1.5 s measured): done in a
    # worker thread, so the event loop, and every other member of staff's page, never waits.
    @app.get("/reports")
    @page()
    async def report_page(request: Request, staff: auth.Staff):
        scope = report_scope(request, staff)
        tables = await asyncio.to_thread(reports.build, engine, key, scope)
        log(request, "view_reports", scope.council)
        return render(request, "reports.html", tables=tables, args=request.args, query=request.query_string)

    def topics_chart(scope: reports.Scope) -> bytes:
        conversations = list_conversations(engine, key, scope.council, scope.filters())
        return reports.topics_chart_png(reports.topic_counts(conversations, transcripts(engine, conversations)))

    @app.get("/reports/topics.png")
    @page()
    async def report_chart(request: Request, staff: auth.Staff):
        chart = await asyncio.to_thread(topics_chart, report_scope(request, staff))
        return response.raw(chart, content_type="image/png")

    def report_tables_csv(scope: reports.Scope, name: str) -> str:
        return reports.to_csv(reports.build(engine, key, scope, reports.REPORTS if name == "all" else [name]).values())

    @app.get("/reports/csv/<name:str>")
    @page()
    async def report_csv(request: Request, staff: auth.Staff, name: str):
        if name not in reports.REPORTS and name != "all":
            raise NotFound("No such report")
        scope = report_scope(request, staff)
        body = await asyncio.to_thread(report_tables_csv, scope, name)
        log(request, "export_report", name, scope.council)
        return csv_download(body, f"pathfinder-{name}.csv")

    @app.get("/admin/users")
    @page(roles=("admin",))
    async def user_list(request: Request, staff: auth.Staff):
        with Session(engine) as session:
            users = session.execute(select(StaffUser).order_by(StaffUser.email)).scalars().all()
            session.expunge_all()
        log(request, "view_users")
        return render(request, "users.html", users=users)

    @app.get("/admin/audit")
    @page(roles=("admin",))
    async def audit_log(request: Request, staff: auth.Staff):
        with Session(engine) as session:
            entries = session.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(AUDIT_PAGE)).scalars().all()
            session.expunge_all()
        log(request, "view_audit_log")
        return render(request, "audit.html", entries=entries, limit=AUDIT_PAGE)

    @app.get("/admin/subject/<wanted:str>/export")
    @page(roles=("admin",))
    async def subject_export(request: Request, staff: auth.Staff, wanted: str):
        conversation = conversation_or_404(staff, wanted)
        log(request, "subject_access_export", conversation.display_id)
        body = json.dumps(subject.export(engine, conversation.conversation_id), indent=2, default=str)
        return response.text(body, content_type="application/json", headers={
            "Content-Disposition": f'attachment; filename="{conversation.display_id}-subject-access.json"'})

    @app.post("/admin/subject/<wanted:str>/erase")
    @page(roles=("admin",))
    async def subject_erase(request: Request, staff: auth.Staff, wanted: str):
        conversation = conversation_or_404(staff, wanted)
        if request.form.get("confirm") != conversation.display_id:
            return render(request, "message.html", status=400, title="Not erased",
                          message="To erase, type the conversation's id exactly as shown.")
        counts = subject.erase(engine, conversation.conversation_id)
        log(request, "subject_erasure", conversation.display_id, json.dumps(counts))
        return render(request, "message.html", title="Erased",
                      message=f"Everything held about {conversation.display_id} has been erased.")

    return app


def csv_download(body: str, filename: str) -> response.HTTPResponse:
    return response.text(body, content_type="text/csv; charset=utf-8",
                         headers={"Content-Disposition": f'attachment; filename="{filename}"'})
