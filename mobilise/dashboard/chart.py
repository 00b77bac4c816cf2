"""Actions per day as an SVG drawn on the server: no script, nothing loaded from elsewhere."""
from dataclasses import dataclass
from datetime import date, timedelta

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 220, 36, 28, 12


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: date
    actions: int


def actions_chart(per_day: dict[date, int], start: date, deadline: date, today: date) -> dict:
    """Bars from `start` to the later of today and the deadline, and where the deadline falls."""
    end = max(today, deadline, start)
    days = (end - start).days + 1
    slot = (WIDTH - LEFT) / days
    peak = max(per_day.values(), default=0) or 1
    plot = HEIGHT - BOTTOM - TOP
    bars = []
    for n in range(days):
        day = start + timedelta(days=n)
        count = per_day.get(day, 0)
        height = plot * count / peak
        bars.append(Bar(LEFT + n * slot + slot * 0.1, TOP + plot - height, max(slot * 0.8, 1), height, day, count))
    deadline_x = LEFT + ((deadline - start).days + 1) * slot
    # Labels that fit: none so near the right edge that it would be cut off.
    ticks = [bars[i] for i in range(0, days, max(days // 6, 1)) if bars[i].x < WIDTH - 30]
    return {"width": WIDTH, "height": HEIGHT, "left": LEFT, "top": TOP, "base": TOP + plot, "bars": bars,
            "peak": peak, "deadline_x": deadline_x, "deadline": deadline, "ticks": ticks, "total": sum(per_day.values())}
