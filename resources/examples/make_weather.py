"""Generate ``weather.csv``, the bundled example of the series task.

Where it came from: the data are synthetic, made by this script for rnnviz (no real measurements).
Two years of readings every 3 hours at an imaginary station: a yearly temperature cycle (coldest
mid-January), a daily cycle (warmest mid-afternoon), and slowly wandering weather (AR(1) noise);
humidity falls when it is warm; pressure wanders on its own and dips a little in warm spells.
Reproducible (fixed seed):
    python resources/examples/make_weather.py > resources/examples/weather.csv
"""
from __future__ import annotations

import datetime as dt

import numpy as np

HOURS_PER_STEP = 3
DAYS = 730


def ar1(rng: np.random.Generator, n: int, keep: float, scale: float) -> np.ndarray:
    """x_t = keep * x_{t-1} + scale * e_t, e_t ~ N(0, 1): noise that wanders slowly."""
    out = np.empty(n)
    level = 0.0
    for t, e in enumerate(rng.normal(size=n)):
        level = keep * level + scale * e
        out[t] = level
    return out


def main() -> None:
    rng = np.random.default_rng(2024)
    steps = DAYS * 24 // HOURS_PER_STEP
    hours = np.arange(steps) * HOURS_PER_STEP  # hours since the start
    day_of_year = hours / 24.0
    hour_of_day = hours % 24
    weather = ar1(rng, steps, keep=0.97, scale=0.8)
    temperature = (
        11.0
        - 9.0 * np.cos(2 * np.pi * (day_of_year - 15) / 365.25)
        - 4.0 * np.cos(2 * np.pi * (hour_of_day - 3) / 24)
        + weather
        + rng.normal(0, 0.3, steps)
    )
    humidity = np.clip(78 - 1.6 * (temperature - 11) + ar1(rng, steps, 0.9, 2.0), 15, 100)
    pressure = 1013 + ar1(rng, steps, 0.98, 1.2) - 0.4 * weather
    start = dt.datetime(2024, 1, 1)
    print("time,humidity_pct,pressure_hpa,temperature_c")
    for h, hum, pres, temp in zip(hours, humidity, pressure, temperature):
        stamp = (start + dt.timedelta(hours=int(h))).strftime("%Y-%m-%d %H:%M")
        print(f"{stamp},{hum:.0f},{pres:.1f},{round(temp, 1) + 0.0:.1f}")  # + 0.0: no "-0.0"


if __name__ == "__main__":
    main()
