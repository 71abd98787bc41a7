"""The batch engine: a job's states, lifecycle, leases, upload checks, and the runner that sends its rows.

No pages here (they are facesite/web/batch): importing the engine builds no app."""
