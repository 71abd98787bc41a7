"""The embedded sandbox: a local stand-in for the ADVANCE.AI Face Search API.

Kept light on purpose: the portal imports these names without loading the face
engine (dlib and numpy are only needed where the sandbox itself runs).
"""
DEMO_FACE_SET_ID = "demo"
DEMO_FACE_SET_NAME = "Demo face set"
