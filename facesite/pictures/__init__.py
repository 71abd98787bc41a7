"""A face picture's whole walk, in one package, each module using only those listed before it:

- ``decoding``: how much picture may be decoded, per picture and at once in a process;
- ``image_rules``: the vendor's rules (formats, bytes, sides) and the check by content;
- ``preparation``: making a picture the vendor accepts out of a picture as staff have it;
- ``sending``: what is sent for an upload (prepared or checked as it is), for forms and batch rows alike;
- ``thumbnails``: the small upright copies the register and the result pages show.

No Flask here: the web's picture field (facesite/web/picture_field.py) and the batch engine call in.
"""
