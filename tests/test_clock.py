"""Deadlines in the office's timezone: the last day to act, until the midnight after it."""

from datetime import date, datetime

from mobilise.clock import days_left, deadline_end, is_open, local_to_utc


def test_a_deadline_ends_at_the_midnight_after_it_in_the_offices_timezone():
    assert deadline_end(date(2027, 7, 1), "Europe/London") == datetime(2027, 7, 1, 23, 0)  # BST
    assert deadline_end(date(2027, 12, 1), "Europe/London") == datetime(2027, 12, 2, 0, 0)  # GMT
    assert deadline_end(date(2027, 12, 1), "Asia/Tokyo") == datetime(2027, 12, 1, 15, 0)


def test_days_left_counts_whole_days_after_today():
    deadline = date(2027, 3, 30)
    assert days_left(deadline, "Europe/Madrid", local_to_utc(date(2027, 3, 23), 10, "Europe/Madrid")) == 7
    last_day = local_to_utc(date(2027, 3, 30), 23, "Europe/Madrid")
    assert days_left(deadline, "Europe/Madrid", last_day) == 0 and is_open(deadline, "Europe/Madrid", last_day)
    after = local_to_utc(date(2027, 3, 31), 0, "Europe/Madrid")
    assert days_left(deadline, "Europe/Madrid", after) == 0 and not is_open(deadline, "Europe/Madrid", after)


def test_the_same_instant_is_a_different_day_in_another_office():
    instant = datetime(2027, 1, 10, 23, 30)  # UTC: already 11 January in Madrid (CET), still 10 January in London (GMT)
    assert days_left(date(2027, 1, 20), "Europe/London", instant) == 10
    assert days_left(date(2027, 1, 20), "Europe/Madrid", instant) == 9
