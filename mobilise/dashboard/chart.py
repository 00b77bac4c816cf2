"""Actions per day as an SVG drawn on the server: no script, nothing loaded from elsewhere."""

from dataclasses import dataclass
from datetime import date, timedelta

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 220, 36, 28, 12
# More bars than the chart has room for cannot be told apart; a longer span gives each bar several days,
# so the page costs the same whatever deadline is stored (a deadline in year 9999 is 2.9 million days).
MAX_BARS = 180


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: date  # the first day the bar counts
    actions: int
    days: int = 1


def actions_chart(per_day: dict[date, int], start: date, deadline: date, today: date) -> dict:
    """Bars from `start` to the later of today and the deadline, and where the deadline falls."""
    end = max(today, deadline, start)
    days = (end - start).days + 1
    per_bar = -(-days // MAX_BARS)  # days in each bar, rounded up
    count = -(-days // per_bar)
    totals = [0] * count
    for day, actions in per_day.items():
        if start <= day <= end:
            totals[(day - start).days // per_bar] += actions
    slot = (WIDTH - LEFT) / count
    peak = max(totals, default=0) or 1
    plot = HEIGHT - BOTTOM - TOP
    bars = []
    for n, actions in enumerate(totals):
        height = plot * actions / peak
        first = start + timedelta(days=n * per_bar)
        bars.append(
            Bar(
                LEFT + n * slot + slot * 0.1,
                TOP + plot - height,
                max(slot * 0.8, 1),
                height,
                first,
                actions,
                min(per_bar, (end - first).days + 1),
            )
        )
    deadline_x = LEFT + ((deadline - start).days + 1) / per_bar * slot
    # Labels that fit: none so near the right edge that it would be cut off.
    ticks = [bars[i] for i in range(0, count, max(count // 6, 1)) if bars[i].x < WIDTH - 30]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "top": TOP,
        "base": TOP + plot,
        "bars": bars,
        "peak": peak,
        "deadline_x": deadline_x,
        "deadline": deadline,
        "ticks": ticks,
        "total": sum(per_day.values()),
    }


BAND, LABEL, GAP = 48, 16, 10  # each series' strip in the reputation chart, the line naming it, the space after


@dataclass(frozen=True)
class Band:
    label: str
    label_y: float
    top: float
    base: float
    peak: int
    bars: list[Bar]


def daily_bands(days: list[dict], series: tuple[tuple[str, str], ...]) -> dict:
    """One strip of bars per series (sent, hard bounces, complaints), each on its own scale, since a few
    complaints drawn on the scale of thousands sent would not show; each strip is named and says its peak."""
    slot = (WIDTH - LEFT) / max(len(days), 1)
    bands = []
    for n, (key, label) in enumerate(series):
        label_y = TOP + n * (LABEL + BAND + GAP)
        top = label_y + LABEL - 10
        base = top + BAND
        peak = max((day[key] for day in days), default=0)
        bars = []
        for i, day in enumerate(days):
            height = BAND * day[key] / (peak or 1)
            bars.append(
                Bar(LEFT + i * slot + slot * 0.1, base - height, max(slot * 0.8, 1), height, day["date"], day[key])
            )
        bands.append(Band(label, label_y, top, base, peak, bars))
    base = bands[-1].base if bands else TOP
    ticks = [(LEFT + i * slot + slot * 0.1, days[i]["date"]) for i in range(0, len(days), 7)]
    return {"width": WIDTH, "height": base + 22, "left": LEFT, "base": base, "bands": bands, "ticks": ticks}
