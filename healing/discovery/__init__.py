"""Discovery of new providers: candidate APIs are validated (candidates), probed (probe),
classified (classify) and added to the catalogue *disabled*, with the findings in their notes
(service), for an operator to review and enable. `manage.py discover`, the admin's "Discover
providers" page and the weekly re-validation task are thin callers of `service`.

Nothing here searches for APIs: it only probes the URLs an operator listed (see probe's guard).
"""
