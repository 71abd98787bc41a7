"""The scale-out database: the same migrations, audit trail and pages on PostgreSQL (DATABASE_URL)."""
import csv
import io


from facesite.extensions import db
from facesite.models import VendorCall
from tests.conftest import EnrolPage, face, make_app, sign_in
from tests.servers import envelope


def test_audit_trail_pages_and_export_on_postgresql(postgres_url, fake_vendor, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    app = make_app(fake_vendor.url)
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
    assert "1 call(s)" in audit and "No face detected" in audit and '<rect class="free"' in audit
    rows = list(csv.DictReader(io.StringIO(admin.get("/admin/audit.csv").get_data(as_text=True))))
    assert [r["outcome_code"] for r in rows] == ["SUCCESS", "PARAMETER_ERROR", "SUCCESS"]
    # A second app on the same database (another web process) migrates nothing and sees the same users.
    assert sign_in(make_app(fake_vendor.url).test_client(), "admin").get("/admin/users").status_code == 200
