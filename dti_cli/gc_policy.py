"""The command line's garbage-collection policy (from the profile of ``dti demo``).

A yearly run allocates millions of short-lived Python objects (workbook cells, GX results, report
rows) on top of ~450,000 long-lived ones (Dagster, GX, pandas, plotly). With CPython's default
thresholds the collector ran ~1,500 times per one-year demo, eight of them full collections of
the whole heap (~1 s together), and interpreter shutdown collected everything again (~1.4 s) after
the results were printed. Reference counting frees almost all of it; the cyclic collector only
has to run now and then.
"""

from __future__ import annotations

import atexit
import gc

# Allocations between young collections (CPython's default is 700); older generations keep
# their default ratios.
YOUNG_THRESHOLD = 20_000

_applied = False


def collect_less() -> None:
    """Collect young objects less often and skip the collection at interpreter exit.

    Process-wide, hence called by the ``dti`` entry point only (never by ``pipelines``): at exit
    the surviving objects are moved to the permanent generation, which shutdown does not
    traverse; the operating system takes the memory back. Files and connections are closed by
    the commands themselves, not by finalisers of cyclic garbage."""
    global _applied
    if _applied:
        return
    _applied = True
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    atexit.register(gc.freeze)
