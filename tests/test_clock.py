from datetime import UTC, datetime, timedelta

import pytest

from crm import clock


def test_as_of_moves_now_and_today_for_the_block_only():
    moment = datetime(2026, 3, 14, 9, 30)
    with clock.as_of(moment):
        assert abs(clock.now_utc() - moment) < timedelta(seconds=5)
        assert clock.today() == moment.date()
        with clock.as_of(moment + timedelta(days=2)):
            assert clock.today() == moment.date() + timedelta(days=2)
        assert clock.today() == moment.date()
    assert abs(clock.now_utc() - datetime.now(UTC).replace(tzinfo=None)) < timedelta(seconds=5)


def test_as_of_restores_the_real_clock_when_the_block_fails():
    with pytest.raises(RuntimeError), clock.as_of(datetime(2020, 1, 1)):
        raise RuntimeError
    assert clock.today().year > 2020
