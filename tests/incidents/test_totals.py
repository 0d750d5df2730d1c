"""services.compute_totals: the denormalised totals exactly as DOMAIN.md defines them."""

from incidents.services import CasualtyRowData, compute_totals


def row(group, outcome, low, high, best=None):
    return CasualtyRowData(group=group, outcome=outcome, min=low, max=high, best=best)


def test_it_reports_no_casualties_known_without_rows():
    totals = compute_totals([])

    assert totals["casualties_known"] is False
    assert totals["civilians_killed_min"] == 0
    assert totals["civilians_killed_max"] == 0
    assert totals["total_killed_max"] == 0


def test_it_takes_civilians_from_the_civilians_row():
    totals = compute_totals(
        [row("civilians", "killed", 9, 11), row("children", "killed", 4, 4)]
    )

    assert (totals["civilians_killed_min"], totals["civilians_killed_max"]) == (9, 11)
    assert (totals["children_killed_min"], totals["children_killed_max"]) == (4, 4)
    assert totals["casualties_known"] is True


def test_it_falls_back_to_the_largest_subgroup_as_a_floor():
    totals = compute_totals(
        [row("children", "killed", 4, 6), row("women", "killed", 5, 5)]
    )

    assert totals["civilians_killed_min"] == 5
    assert totals["civilians_killed_max"] is None  # "at least 5"


def test_it_sums_status_groups_when_there_is_no_all_row():
    totals = compute_totals(
        [
            row("civilians", "killed", 2, 3),
            row("combatants", "killed", 10, 12),
            row("unknown_status", "killed", 1, 4),
        ]
    )

    assert (totals["total_killed_min"], totals["total_killed_max"]) == (13, 19)


def test_it_keeps_the_all_row_as_the_sources_own_total():
    totals = compute_totals(
        [row("all", "killed", 20, 30, 25), row("civilians", "killed", 2, 3)]
    )

    assert (totals["total_killed_min"], totals["total_killed_max"]) == (20, 30)
    assert (totals["civilians_killed_min"], totals["civilians_killed_max"]) == (2, 3)


def test_it_makes_the_total_max_unknown_when_civilians_max_is_unknown():
    totals = compute_totals(
        [row("children", "killed", 4, 4), row("combatants", "killed", 1, 1)]
    )

    assert totals["total_killed_min"] == 5
    assert totals["total_killed_max"] is None


def test_it_counts_injured_separately_from_killed():
    totals = compute_totals([row("civilians", "injured", 7, 9)])

    assert (totals["civilians_injured_min"], totals["civilians_injured_max"]) == (7, 9)
    assert (totals["total_injured_min"], totals["total_injured_max"]) == (7, 9)
    assert (totals["civilians_killed_min"], totals["civilians_killed_max"]) == (0, 0)


def test_it_zeroes_children_and_medical_personnel_when_absent():
    totals = compute_totals([row("civilians", "killed", 1, 1)])

    assert (totals["children_killed_min"], totals["children_killed_max"]) == (0, 0)
    assert (
        totals["medical_personnel_killed_min"],
        totals["medical_personnel_killed_max"],
    ) == (
        0,
        0,
    )
