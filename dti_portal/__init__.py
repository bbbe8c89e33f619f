"""The web portal: units submit and see their results, appraisers appraise, the officer follows
the year, the public reads published results (docs/portal.md).

A third top layer beside ``dti_assets`` and ``dti_cli``: it reads the pipeline's functions and the
warehouse (read-only), keeps its own state in its own SQLite store, and hands submissions to the
pipeline only by landing workbooks in the inbox. Nothing in ``pipelines`` imports it.
"""
