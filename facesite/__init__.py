"""facesite: a staff portal for ADVANCE.AI Face Search.

The package is built in floors; a request enters at the top and every import points down:

- ``app.py`` builds the portal (``create_app``), ``worker.py`` is the batch worker process, ``commands.py``
  the operator commands;
- ``web/``: everything that answers a request (blueprints, forms, page helpers, error pages, /metrics);
- ``faces/`` (the domain: enrol, search, the questions asked first, the register, the catalogue) and
  ``batch/`` (the engine that runs batch jobs), beside each other;
- ``pictures/`` (a picture's whole walk: rules, decoding, preparation, what is sent, thumbnails),
  ``access/`` (accounts, sign-on, the access policy), ``advance/`` (the vendor client), ``sandbox/``,
  and the storage below them (``models.py``, ``drafts.py``, ``audit.py``, ``extensions.py``).

Importing this package, or anything below ``web/``, builds no app.
"""
