"""The scale-out database: the same migrations, audit trail and pages on PostgreSQL (DATABASE_URL)."""


from facesite.extensions import db
from facesite.models import VendorCall
from tests.support import EnrolPage, face, make_app, sign_in
from tests.support.batch_files import read_csv
from tests.support.servers import envelope


def test_audit_trail_pages_and_export_on_postgresql(postgres_url, fake_vendor):
    app = make_app(fake_vendor.url, {"DATABASE_URL": postgres_url})
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg2://")
    fake_vendor.add_face.append(envelope("PARAMETER_ERROR", "Failed to embed image: No face detected"))
    page = EnrolPage(sign_in(app.test_client()))
    assert page.send(face("obama.jpg"), faceSetId="1", idNumber="99887766").status_code == 422
    assert page.send(face("obama.jpg"), faceSetId="1").status_code == 303
    with app.app_context():
        calls = db.session.scalars(db.select(VendorCall).order_by(VendorCall.id)).all()
        engine_name = db.engine.dialect.name
    assert engine_name == "postgresql"
    assert [(c.call, c.outcome_code) for c in calls] == [
        ("token", "SUCCESS"), ("add_face", "PARAMETER_ERROR"), ("add_face", "SUCCESS")]
    assert calls[1].id_number_masked == "••••7766" and calls[1].username == "otto"
    admin = sign_in(app.test_client(), "admin")
    audit = admin.get("/admin/audit?outcome=failure").get_data(as_text=True)
    assert "1 call." in audit and "No face detected" in audit and '<rect class="free"' in audit
    rows = read_csv(admin.get("/admin/audit.csv").get_data())
    assert [r["outcome_code"] for r in rows] == ["SUCCESS", "PARAMETER_ERROR", "SUCCESS"]
    # A second app on the same database (another web process) migrates nothing and sees the same users.
    assert sign_in(make_app(fake_vendor.url).test_client(), "admin").get("/admin/users").status_code == 200


def test_web_processes_on_two_machines_share_forms_through_the_database(postgres_url, fake_vendor, tmp_path):
    """No sticky sessions: the form goes to one machine, the retry and the result page to another.
    Each has its own instance folder; only the database (and SECRET_KEY) is shared."""
    machines = []
    for name in ("a", "b"):
        machines.append(make_app(fake_vendor.url, {"DATABASE_URL": postgres_url, "SECRET_KEY": "shared-by-every-machine" * 2,
                                                   "INSTANCE_PATH": str(tmp_path / name)}))
    first, second = sign_in(machines[0].test_client()), machines[1].test_client()
    fake_vendor.add_face.append(envelope("ERROR", "internal error"))
    page = EnrolPage(first)
    failed = page.send(face("obama.jpg"), faceSetId="1", name="Across")
    assert failed.status_code == 502
    html = failed.get_data(as_text=True)
    assert EnrolPage.hidden(html, "keptPicture")
    # The retry lands on machine b, without the file: the picture kept by machine a is used.
    second.set_cookie("session", first.get_cookie("session").value)  # the same browser, another machine
    retried = EnrolPage(second).send(None, html=html, faceSetId="1", name="Across")
    assert retried.status_code == 303, retried.get_data(as_text=True)[-1500:]
    assert "Face enrolled" in first.get(retried.headers["Location"]).get_data(as_text=True)
    assert len(fake_vendor.calls("add_face")) == 2
    # A refresh of that same form on machine a is recognised: nothing is sent again.
    again = EnrolPage(first).send(None, html=html, faceSetId="1", name="Across")
    assert again.status_code == 303 and len(fake_vendor.calls("add_face")) == 2
