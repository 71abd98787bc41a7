"""The embedded sandbox: a local stand-in for the ADVANCE.AI Face Search API.

Kept light on purpose: the portal imports these names without loading the face
engine (dlib and numpy are only needed where the sandbox itself runs).
"""
import os

# The sandbox's own credentials. They guard nothing real: the portal signs its
# tokens with them when no vendor credentials are configured.
SANDBOX_ACCESS_KEY = "sandbox-access-key"
SANDBOX_SECRET_KEY = "sandbox-secret-key"



def sandbox_credentials() -> tuple[str, str]:
    """(access key, secret key) the sandbox accepts, and the portal signs with in sandbox mode."""
    return (os.environ.get("SANDBOX_ACCESS_KEY") or SANDBOX_ACCESS_KEY,
            os.environ.get("SANDBOX_SECRET_KEY") or SANDBOX_SECRET_KEY)


DEMO_FACE_SET_ID = "demo"
DEMO_FACE_SET_NAME = "Demo face set"
