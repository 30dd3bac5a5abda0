"""The PTZ head model against the arithmetic: distance = speed × time, on every axis."""

from __future__ import annotations

import pytest

from simulator.onvif.ptz_head import MAX_SPEED, Head


def test_an_absolute_move_takes_distance_over_speed() -> None:
    h = Head().absolute(10.0, (0.6, -0.3, 0.5), (0.5, 1.0, 0.25))
    pan_s = 0.6 / (0.5 * MAX_SPEED["pan"])
    tilt_s = 0.3 / (1.0 * MAX_SPEED["tilt"])
    zoom_s = 0.5 / (0.25 * MAX_SPEED["zoom"])
    assert h.pan.t1 - 10 == pytest.approx(pan_s)
    assert h.zoom.t1 - 10 == pytest.approx(zoom_s)
    t = 10 + tilt_s / 2  # every axis halfway through the tilt's move
    pan, tilt, zoom = h.position(t)
    assert pan == pytest.approx(0.5 * MAX_SPEED["pan"] * tilt_s / 2)
    assert tilt == pytest.approx(-0.15)
    assert zoom == pytest.approx(0.25 * MAX_SPEED["zoom"] * tilt_s / 2)
    assert h.moving(t) == (True, True)
    assert h.moving(10 + pan_s) == (False, True)  # pan and tilt arrived, zoom not yet
    assert h.position(10 + zoom_s) == (0.6, -0.3, 0.5)  # exactly the target
    assert h.moving(10 + zoom_s) == (False, False)
    assert h.idle_at() == pytest.approx(10 + zoom_s)


def test_a_move_starts_from_where_the_head_is() -> None:
    h = Head().absolute(0.0, (1.0, None, None))  # pan at full speed: 1 s
    h = h.absolute(0.5, (0.0, None, None))  # turned back halfway
    assert h.pan.x0 == pytest.approx(0.5 * MAX_SPEED["pan"])
    assert h.position(0.5 + h.pan.x0 / MAX_SPEED["pan"])[0] == 0.0


def test_relative_moves_clamp_at_the_limits() -> None:
    h = Head().absolute(0.0, (0.8, None, 0.9)).relative(5.0, (0.5, -1.0, 0.5))
    assert h.position(100.0) == (1.0, -1.0, 1.0)


def test_continuous_moves_for_their_timeout_or_to_the_limit() -> None:
    h = Head().continuous(0.0, (-0.5, None, 1.0), timeout=1.0)
    assert h.position(0.5) == pytest.approx((-0.25 * MAX_SPEED["pan"], 0, 0.5 * MAX_SPEED["zoom"]))
    assert h.position(2.0)[0] == pytest.approx(-0.5 * MAX_SPEED["pan"])  # stopped at 1 s
    assert not any(h.moving(1.0))
    far = Head().continuous(0.0, (1.0, None, None), timeout=60.0)
    assert far.pan.t1 == pytest.approx(1.0 / MAX_SPEED["pan"])  # the end stop, not 60 s


def test_stop_freezes_the_axes_asked() -> None:
    h = Head().continuous(0.0, (1.0, None, 1.0), timeout=10.0).stop(0.3, zoom=False)
    assert h.position(5.0)[0] == pytest.approx(0.3 * MAX_SPEED["pan"])
    assert h.moving(0.4) == (False, True)


def test_out_of_range_values_are_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        Head().absolute(0.0, (1.5, None, None))
    with pytest.raises(ValueError, match="speed"):
        Head().absolute(0.0, (0.5, None, None), (0.0, 1, 1))
    Head().absolute(0.0, (0.5, None, None), (1, 1, 0.0))  # no zoom move: its speed unused
    with pytest.raises(ValueError, match="velocity"):
        Head().continuous(0.0, (2.0, None, None), 1.0)
