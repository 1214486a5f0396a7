"""Time one Step of the dashboard: the model's month plus the redraw of every view.

    .venv/bin/python bench/dashboard_step.py [--customers 2000] [--steps 20]

The page is rendered with ``solara.render`` (as tests/test_app.py does) and its Step button
pressed; the time from the click until every component has drawn is what a class waits
for (the browser's own painting of the new images is not included). Prints the median and
the 90th percentile over ``--steps`` presses after a warm-up of three.
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--scenario", default="baseline")
    a = ap.parse_args()

    import ipyvuetify as v
    import solara

    from sim.app.page import Dashboard
    from sim.app.session import Controller

    ctrl = Controller(a.scenario)
    ctrl.set_param("market.n_customers", a.customers)
    ctrl.reset()
    box, rc = solara.render(Dashboard(ctrl), handle_error=False)

    def step_button():
        stack = [box]
        while stack:
            w = stack.pop()
            if isinstance(w, v.Btn) and "sim-step" in (w.class_ or ""):
                return w
            stack.extend(c for c in (getattr(w, "children", None) or []) if hasattr(c, "keys"))
        raise RuntimeError("no Step button")

    times = []
    for i in range(a.steps + 3):
        t0 = time.perf_counter()
        step_button().click()
        dt = time.perf_counter() - t0
        if i >= 3:
            times.append(dt)
    rc.close()
    times.sort()
    p90 = times[int(0.9 * (len(times) - 1))]
    print(
        f"{a.scenario}, {a.customers:,} customers: step + redraw median "
        f"{statistics.median(times):.3f} s, p90 {p90:.3f} s over {len(times)} steps "
        f"(months {ctrl.run.model.period - len(times) + 1}–{ctrl.run.model.period})"
    )


if __name__ == "__main__":
    main()
