"""Exports of customer products, orders, invoices and billing events as CSV and XLSX (issue 4, seed 001).

- :mod:`.columns`: what each dataset contains (columns, the list query it reuses, the permission);
- :mod:`.writers`: CSV (streamed through ``partnerhub.core.exports``) and XLSX (openpyxl, write-only);
- :mod:`.jobs`: the services (download now, request a background export, download a finished one)
  and the task that writes a background export;
- :mod:`.views`, :mod:`.urls`: the pages; the API is ``partnerhub.api.endpoints.exports``.

Kept import-free: ``partnerhub.billing.models`` imports :mod:`.models` while the app registry loads.
"""
