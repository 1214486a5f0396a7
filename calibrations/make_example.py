"""Make the shipped example's synthetic "observed" data (calibrations/example_observed.csv).

The data are NOT from a real firm: they are the model itself, run at hidden parameters
(below) with seed 2024, plus Gaussian measurement noise (half the run-to-run standard
deviation of each value). `sim calibrate calibrations/example.toml` should find the
hidden parameters again within its stated uncertainty.

Run from the repository root:  .venv/bin/python calibrations/make_example.py
"""

from pathlib import Path

from sim.calibration.synthetic import synthetic_targets

HERE = Path(__file__).parent
#: the hidden parameters of the synthetic market
TRUTH = {
    "firms.B.price": 1.08,
    "churn.base_rate": 0.018,
    "complaints.max_prob": 0.62,
    "firms.A.quality": 0.78,
}
SERIES = [
    ("churn_rate", "A"),
    ("churn_rate", "B"),
    ("share", "B"),
    ("mean_satisfaction", "A"),
    ("mean_satisfaction", "B"),
    ("complaints", "A"),
    ("complaints", "B"),
    ("nps", "market"),  # held out: the posterior-predictive check
]
OVERRIDES = ["market.n_customers=1000", "market.periods=24"]

if __name__ == "__main__":
    t = synthetic_targets(
        HERE.parent / "scenarios" / "baseline.toml",
        TRUTH,
        SERIES,
        seed=2024,
        replications=8,
        noise=0.5,
        overrides=OVERRIDES,
    )
    t.to_csv(HERE / "example_observed.csv", index=False, float_format="%.6g")
    print(f"wrote {HERE / 'example_observed.csv'}: {len(t)} rows")
