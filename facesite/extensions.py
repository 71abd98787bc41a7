"""Flask extensions, created unbound here and bound to the app in create_app."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


csrf = CSRFProtect()
db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
# Default key: the client's address (ProxyFix has already put the real one there).
limiter = Limiter(key_func=get_remote_address)
talisman = Talisman()
