"""The portal's domain layer: enrolling and searching faces, for every way staff ask for it.

The enrol and search views, the duplicate check and the batch runner are thin adapters over this
package: they turn a form or a manifest row into a ``PersonDetails`` and a ``Picture`` and call
``enrolment.enrol`` or ``searching.search``, which make the vendor call for a named staff member,
write the register and return a typed result (``results.py``) or a ``Refused`` with the problem in
plain words (``problems.py``). Nothing here knows of forms, requests or templates.

Modules import each other directly (``from facesite.faces.enrolment import enrol``); this file
imports nothing, so that low-level modules (the audit trail) can use ``faces.person`` freely.
"""
