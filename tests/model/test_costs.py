"""Costs (simulator/model/costs.py) against a hand calculation on the CBR city.

The city (tests/data/cbr_city.yaml): groups rec-north and rec-south of one server each, each
with 12 disks of 16 TB (192 TB raw); uplinks north and south at 1,000 Mbps, the core at
10,000 Mbps, 5 cameras with 100 Mbps access links. Priced here with one standby:

  servers   rec-north 1 × 10,000 + rec-south 1 × 8,000                 = 18,000
  disks     2 × 192 TB × 20 / TB                                        =  7,680
  standby   the priciest group's server with its disks: 10,000 + 3,840 = 13,840
  capital                                                               = 39,520
  energy    3 machines × 500 W × 8,760 h = 13,140 kWh × 0.25           =  3,285 / year
  links     uplinks 2,000 Mbps × 10 + core 10,000 Mbps × 2             = 40,000 / year
  yearly                                                                = 43,285
  total over 5 years: 39,520 + 5 × 43,285                               = 255,945
"""

from __future__ import annotations

import pytest

from simulator.model.costs import bill, costs_of
from simulator.model.sizing import simulate

PRICES = (
    "recording.failover.standby=1",
    "costs={currency: EUR, horizon_years: 5, servers: {rec-north: 10000, rec-south: 8000}, "
    "disk_per_tb: 20, links: {uplink: 10, core: 2}, server_watts: 500, energy_per_kwh: 0.25}",
)


def test_configured_costs_match_the_hand_calculation(load):
    s = load("cbr_city", *PRICES)
    b = bill(s, {})
    assert b.capital == pytest.approx(39_520)
    assert b.yearly == pytest.approx(43_285)
    assert b.total == pytest.approx(255_945)
    by_item = {line.item: line for line in b.lines}
    assert by_item["standby servers"].price == pytest.approx(13_840)
    assert by_item["energy"].quantity == pytest.approx(13_140)
    assert by_item["links uplink"].quantity == 2_000


def test_needed_prices_the_servers_the_sizing_needs(load):
    """Two more rec-north servers than needed: configured costs 2 × (10,000 + 3,840) = 27,680
    more capital and 2 × 4,380 kWh × 0.25 = 2,190 more a year; as needed it is the city above,
    whose sizing needs one server per group (3 cameras at 4 Mbps and 2 at 2.5 Mbps)."""
    s = load("cbr_city", *PRICES, "recording.servers.0.count=3")
    c = costs_of(s, simulate(s))
    assert c is not None
    assert c.servers_needed == {"rec-north": 1, "rec-south": 1}
    assert c.configured.capital == pytest.approx(39_520 + 27_680)
    assert c.configured.yearly == pytest.approx(43_285 + 2_190)
    assert c.needed.total == pytest.approx(255_945)
    assert c.configured.total - c.needed.total == pytest.approx(27_680 + 5 * 2_190)


def test_operators_and_access_links(load):
    """The default rota has 2 × 7 + 4 × 12 + 3 × 5 = 77 operator-hours a day: 28,105 a year at
    30 = 843,150; the 5 access links of 100 Mbps at 1 / Mbps-year = 500."""
    s = load("cbr_city", *PRICES, "operators={}", "costs.operator_hour=30", "costs.links.access=1")
    by_item = {line.item: line for line in bill(s, {}).lines}
    assert by_item["operators"].quantity == 28_105
    assert by_item["operators"].yearly == pytest.approx(843_150)
    assert by_item["links access"].yearly == pytest.approx(500)
    assert bill(s, {}).yearly == pytest.approx(43_285 + 843_150 + 500)


def test_no_costs_section_no_costs(load):
    s = load("cbr_city")
    assert costs_of(s, simulate(s)) is None
    with pytest.raises(ValueError, match="no costs section"):
        bill(s, {})
