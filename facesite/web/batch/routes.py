"""Batch enrolment: upload and check, review, start, watch, pause, retry, download the results."""
from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from flask_login import current_user

from facesite.access.policy import visible_jobs
from facesite.batch import corrections, jobs, lifecycle, row_checks, states
from facesite.batch.limits import ManifestError, UploadLimits, check_quota, open_archive, read_manifest
from facesite.batch.manifest import COLUMNS, plan_upload
from facesite.batch.scheduler import batch_scheduler
from facesite.batch.states import PROBLEMS, JobState, RowState
from facesite.config import settings
from facesite.extensions import db
from facesite.faces import catalogue
from facesite.models import BatchJob, BatchRow
from facesite.web.batch.forms import BatchUploadForm, JobActionForm, ManifestForm, RowFixForm
from facesite.web.filters import requested_page
from facesite.web.spreadsheets import BYTE_ORDER_MARK, csv_download

bp = Blueprint("batch", __name__, url_prefix="/batch")

ROWS_PER_PAGE = 50
JOBS_PER_PAGE = 25
ROW_FILTERS = ("all", "problems", RowState.DONE, RowState.FAILED, RowState.UNKNOWN, RowState.SKIPPED,
               RowState.PENDING)


def _job(job_id: int) -> BatchJob:
    # Only the job's creator (and administrators) got this far: the access policy checked before the view.
    return db.session.get(BatchJob, job_id) or abort(404)


@bp.context_processor
def batch_states():
    """The states the batch pages decide on, from states.py rather than copies in the templates."""
    return {"JobState": JobState, "RowState": RowState, "READING": states.READING, "RUNNABLE": states.RUNNABLE,
            "RETRY_SHOWN": states.RETRY_SHOWN, "page_states": states.for_the_page(),
            "HELD_CODES": row_checks.HELD_CODES}


@bp.get("/")
def jobs_list():
    page = db.paginate(visible_jobs(db.select(BatchJob)).order_by(BatchJob.id.desc()),
                       page=requested_page(), per_page=JOBS_PER_PAGE, error_out=False)
    return render_template("batch/list.html", page=page, progress={job.id: jobs.progress(job) for job in page})


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = BatchUploadForm()
    if request.method in ("GET", "HEAD"):
        form.faceSetId.data = catalogue.default_face_set_id(request.args.get("faceSetId"))
    else:
        catalogue.adopt_from_sandbox(form.faceSetId.data)
    problem, limits = None, UploadLimits.from_settings(settings())
    if form.validate_on_submit():
        try:  # every limit is checked before anything is stored (limits.py)
            check_quota(form.archive.data.stream, jobs.waiting_upload_bytes(current_user.username), limits)
            manifest = read_manifest(form.manifest.data, limits)
            archive = open_archive(form.archive.data.stream, limits)
            plan = plan_upload(archive, manifest, form.faceSetId.data, limits)
        except ManifestError as error:
            problem = str(error)
        else:  # the ZIP is stored once; its pictures are read, checked and copied in the background
            job = jobs.create_job(plan, form.archive.data.stream, form.archive.data.filename, current_user.username,
                                  form.faceSetId.data, check_duplicates=form.checkDuplicates.data)
            batch_scheduler().dispatch(job.id)
            flash(_("Uploaded %(count)s rows from %(source)s.", count=len(plan.rows), source=plan.source), "info")
            if plan.ignored:
                shown = ", ".join(plan.ignored[:10]) + (" …" if len(plan.ignored) > 10 else "")
                flash(_("%(count)s files in the ZIP are not used by any row: %(files)s", count=len(plan.ignored), files=shown), "info")
            return redirect(url_for(".job", job_id=job.id), 303)
    status = 422 if request.method == "POST" else 200
    # A browser cannot keep a chosen file when the page comes back, and nothing is kept before the checks
    # pass: the page names the files received so that choosing them again is quick.
    return render_template("batch/new.html", form=form, problem=problem, columns=COLUMNS,
                           received=form.received() if request.method == "POST" else [],
                           limits=limits, max_upload_mb=settings().batch_max_upload_mb), status


def allow_large_uploads():
    """The batch upload may be far larger than a single picture. Registered before CSRF
    protection, which reads the form (and so the body) before any view runs."""
    if not (current_user.is_authenticated and current_user.can("operator")):
        return
    if request.endpoint == "batch.new":
        request.max_content_length = settings().batch_max_upload_mb * 1024 * 1024
    elif request.endpoint == "batch.replace_manifest":  # the manifest, and room for the form around it
        request.max_content_length = (settings().batch_max_manifest_mb + 1) * 1024 * 1024


@bp.get("/template.csv")
def template_csv():
    face_set = catalogue.default_face_set_id(None) or "your-face-set-id"
    out = io.StringIO()
    out.write(BYTE_ORDER_MARK)  # opened in Excel first, as often as not
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerow([face_set, "photos/maria-santos.jpg", "EMP-0001", "3201234567890001", "KTP", "ID", "Maria Santos"])
    writer.writerow([face_set, "budi.png", "", "", "", "Indonesia", "Budi Hartono"])
    return Response(out.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=facesite-batch-template.csv"})


@bp.get("/<int:job_id>")
def job(job_id):
    job = _job(job_id)
    shown = request.args.get("rows", "problems" if job.state == JobState.REVIEW else "all")
    shown = shown if shown in ROW_FILTERS else "all"
    query = db.select(BatchRow).where(BatchRow.job_id == job.id).order_by(BatchRow.row_number, BatchRow.id)
    corrected = _row_numbers(request.args.get("corrected", ""))
    if shown == "problems":  # with the rows just corrected, to show them fixed
        query = query.where(BatchRow.state.in_(PROBLEMS) | BatchRow.row_number.in_(corrected))
    elif shown != "all":
        query = query.where(BatchRow.state == shown)
    rows = db.paginate(query, page=requested_page(), per_page=ROWS_PER_PAGE, error_out=False)
    fixing = corrections.correctable(job)
    return render_template("batch/job.html", job=job, progress=jobs.progress(job), rows=rows, shown=shown,
                           filters=ROW_FILTERS, action=JobActionForm(), fixing=fixing, corrected=corrected,
                           corrections_said=corrections_said(job, corrected),
                           problem_columns=corrections.problem_columns, cells_of=corrections.cells_of,
                           face_set_options=catalogue.type_ahead_options() if fixing else "")


def _row_numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",")[:ROWS_PER_PAGE] if part.isdigit() and len(part) < 9]


@bp.get("/<int:job_id>/progress")
def progress(job_id):
    return jsonify(jobs.progress(_job(job_id)))


def _act(job_id: int, change, done_message: str, refused_message: str):
    job = _job(job_id)
    if not JobActionForm().validate_on_submit():
        abort(400)
    if change(job):
        db.session.refresh(job)
        if job.state == JobState.QUEUED:
            batch_scheduler().dispatch(job.id)
        flash(str(done_message), "info")
    else:
        flash(str(refused_message), "error")
    return redirect(url_for(".job", job_id=job.id), 303)


@bp.post("/<int:job_id>/start")
def start(job_id):
    return _act(job_id, lambda job: lifecycle.start(job, current_user.username),
                _l("Started: the rows are being sent. You can leave this page and come back."),
                _l("This job was started already."))


@bp.post("/<int:job_id>/pause")
def pause(job_id):
    return _act(job_id, lifecycle.pause, _l("Paused: rows already on their way finish; no new row is sent."),
                _l("Only a queued or running job can be paused."))


@bp.post("/<int:job_id>/resume")
def resume(job_id):
    return _act(job_id, lambda job: lifecycle.resume(job, current_user.username), _l("Resumed."),
                _l("Only a paused job can be resumed."))


@bp.post("/<int:job_id>/retry")
def retry(job_id):
    return _act(job_id, lambda job: lifecycle.retry_failed(job, current_user.username),
                _l("The failed rows are being sent again."),
                _l("No failed row can be retried: there are none, or their pictures are no longer kept "
                   "(BATCH_KEEP_DAYS after the job finished). Upload them again."))


@bp.post("/<int:job_id>/rows/<int:row_id>/resend")
def resend(job_id, row_id):
    return _act(job_id, lambda job: lifecycle.resend_unknown(job, row_id, current_user.username),
                _l("That row is being sent again."), _l("Only a row marked “check” can be sent again this way."))


@bp.post("/<int:job_id>/discard")
def discard(job_id):
    job = _job(job_id)
    if not JobActionForm().validate_on_submit():
        abort(400)
    if lifecycle.discard(job):
        flash(_("The upload was discarded; nothing was sent."), "info")
        return redirect(url_for(".jobs_list"), 303)
    flash(_("A job that was started cannot be discarded."), "error")
    return redirect(url_for(".job", job_id=job_id), 303)


@bp.post("/<int:job_id>/rows/<int:row_id>/fix")
def fix_row(job_id, row_id):
    job, form = _job(job_id), RowFixForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        flash(_("A cell may hold at most 255 characters."), "error")
        return redirect(url_for(".job", job_id=job.id), 303)
    return _corrected(job, lambda limits: corrections.fix_row(job, row_id, form.typed(request.form), limits))


@bp.post("/<int:job_id>/manifest")
def replace_manifest(job_id):
    job, form = _job(job_id), ManifestForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        flash(" ".join(str(error) for error in form.manifest.errors), "error")
        return redirect(url_for(".job", job_id=job.id), 303)
    name = form.manifest.data.filename

    def replace(limits):
        try:
            return corrections.replace_manifest(job, read_manifest(form.manifest.data, limits), limits)
        except ManifestError as error:  # said with the file's name: the browser cannot keep the file chosen
            raise ManifestError(_("%(file)s: %(problem)s", file=name, problem=error)) from None
    return _corrected(job, replace)


def _corrected(job: BatchJob, correct):
    """Run a correction and say what it changed; the review then lists the rows it fixed too."""
    try:
        outcome = correct(UploadLimits.from_settings(settings()))
    except ManifestError as error:
        flash(str(error), "error")
        return redirect(url_for(".job", job_id=job.id), 303)
    if outcome is None:
        flash(_("This upload can no longer be corrected: it was started or discarded, or its files were deleted. "
                "Upload it again."), "error")
        return redirect(url_for(".job", job_id=job.id), 303)
    if outcome.problems:
        flash(still_wrong(outcome.problems), "error")
    # The rows corrected travel in the address: the review says what became of them once their photos
    # are checked (a photo named for the first time is checked first, on the page that follows the check).
    earlier = [n for n in _row_numbers(request.args.get("corrected", "")) if n not in outcome.problems]
    fixed = ",".join(str(n) for n in sorted(set(earlier + outcome.ready + outcome.checking))[:ROWS_PER_PAGE])
    return redirect(url_for(".job", job_id=job.id, corrected=fixed or None), 303)


def still_wrong(numbers: list[int]) -> str:
    return ngettext("Row %(rows)s still has a problem: see below.", "Rows %(rows)s still have problems: see below.",
                    len(numbers), rows=_listed(numbers))


def _listed(numbers: list[int]) -> str:
    return ", ".join(str(number) for number in numbers[:20]) + (" …" if len(numbers) > 20 else "")


def corrections_said(job: BatchJob, corrected: list[int]) -> list[tuple[str, str]]:
    """What became of the rows just corrected, once the job is back under review."""
    if job.state != JobState.REVIEW or not corrected:
        return []
    states = dict(db.session.execute(db.select(BatchRow.row_number, BatchRow.state).where(
        BatchRow.job_id == job.id, BatchRow.row_number.in_(corrected))).all())
    ready = [n for n in corrected if states.get(n) == RowState.PENDING]
    refused = [n for n in corrected if states.get(n) == RowState.SKIPPED]
    said = [("info", ngettext("Row %(rows)s is ready to send now.", "Rows %(rows)s are ready to send now.",
                              len(ready), rows=_listed(ready)))] if ready else []
    return said + ([("error", still_wrong(refused))] if refused else [])


@bp.get("/<int:job_id>/results.csv")
def results_csv(job_id):
    job = _job(job_id)
    return csv_download(f"facesite-batch-{job.id}-results.csv", jobs.RESULT_COLUMNS, jobs.result_rows(job),
                        export=f"batch results {job.id}")
