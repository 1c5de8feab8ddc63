"""The Dask dashboard of a sweep's own LocalCluster, started on its first visit. No Qt.

Dask's scheduler imports bokeh and builds the dashboard as it starts: ~0.3 s of CPU in the
job's process, on the scheduler's event loop, while the workers wait for their first tasks and
then compete with it for the same cores (a 200-case sweep takes ~4 s on two). Most sweeps are
never watched, so the scheduler starts with its bare HTTP server (``dashboard=False``: Dask's
health and metrics routes, on the address the job prints), and `serve_on_first_visit` puts a
catch-all page behind those routes: the first request for any other path connects Dask's
bokeh dashboard, takes the catch-all out and redirects to the same address, which the
dashboard then answers.

`note()` tells beforehand whether the dashboard can be served (bokeh installed, in the
version Dask asks for), without importing it.
"""

from __future__ import annotations

from tornado import web


def note() -> str:
    """"" when the dashboard can be served, else " (no dashboard there: why)". Dask's own
    test, on the installed package's metadata."""
    from importlib.metadata import PackageNotFoundError, version

    from distributed.versions import BOKEH_REQUIREMENT

    try:
        installed = version("bokeh")
    except PackageNotFoundError:
        return f" (no dashboard there: it needs {BOKEH_REQUIREMENT}, not installed)"
    if not BOKEH_REQUIREMENT.specifier.contains(installed, prereleases=True):
        return f" (no dashboard there: it needs {BOKEH_REQUIREMENT}, not bokeh {installed})"
    return ""


class _FirstVisit(web.RequestHandler):
    """Any path the scheduler's own routes do not answer, until the dashboard is connected."""

    def initialize(self, scheduler, catch_all: web.Application) -> None:
        self.scheduler, self.catch_all = scheduler, catch_all

    def get(self, *args) -> None:
        import distributed.dashboard.scheduler

        routing = self.scheduler.http_application
        if self.catch_all in routing.applications:  # two first visits at once: connect once
            routing.applications.remove(self.catch_all)
            distributed.dashboard.scheduler.connect(routing, self.scheduler.http_server,
                                                    self.scheduler)
        self.redirect(self.request.uri)


def serve_on_first_visit(dask_scheduler) -> None:
    """Install the catch-all on a scheduler started with ``dashboard=False`` (run it on the
    scheduler's event loop: ``client.run_on_scheduler``)."""
    catch_all = web.Application()
    catch_all.add_handlers(".*$", [(r"/.*", _FirstVisit,
                                    {"scheduler": dask_scheduler, "catch_all": catch_all})])
    dask_scheduler.http_application.add_application(catch_all)
