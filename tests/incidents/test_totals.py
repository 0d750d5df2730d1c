"""services.compute_totals: the denormalised totals exactly as DOMAIN.md defines them."""

from incidents.services import CasualtyRowData, compute_totals


def row(group, outcome, low, high, best=None):
    return CasualtyRowData(group=group, outcome=outcome, min=low, max=high, best=best)


def test_it_reports_no_casualties_known_without_rows():
    totals = compute_totals([])

    assert totals["casualties_known"] is False
    # Not recorded is not zero (DOMAIN.md): every total is null, none is 0.
    assert all(
        value is None for key, value in totals.items() if key != "casualties_known"
    )


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


def test_a_subgroup_floor_of_zero_is_a_floor_not_a_claim_of_zero():
    """Insecurity Insight: medical personnel 0 killed, no civilian count."""
    totals = compute_totals([row("medical_personnel", "killed", 0, 0)])

    assert (totals["civilians_killed_min"], totals["civilians_killed_max"]) == (0, None)
    assert (totals["total_killed_min"], totals["total_killed_max"]) == (0, None)
    assert (
        totals["medical_personnel_killed_min"],
        totals["medical_personnel_killed_max"],
    ) == (0, 0)


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
    # Combatants and unknown status have no row: they add nothing to the minimum and
    # leave the maximum unknown.
    assert (totals["total_injured_min"], totals["total_injured_max"]) == (7, None)
    assert (totals["civilians_killed_min"], totals["civilians_killed_max"]) == (
        None,
        None,
    )
    assert (totals["total_killed_min"], totals["total_killed_max"]) == (None, None)


def test_children_and_medical_personnel_are_not_recorded_when_absent():
    totals = compute_totals([row("civilians", "killed", 1, 1)])

    assert (totals["children_killed_min"], totals["children_killed_max"]) == (
        None,
        None,
    )
    assert (
        totals["medical_personnel_killed_min"],
        totals["medical_personnel_killed_max"],
    ) == (None, None)


def test_an_explicit_zero_row_is_zero():
    totals = compute_totals(
        [row("civilians", "killed", 0, 0), row("children", "killed", 0, 0)]
    )

    assert (totals["civilians_killed_min"], totals["civilians_killed_max"]) == (0, 0)
    assert (totals["children_killed_min"], totals["children_killed_max"]) == (0, 0)


def test_ucdp_like_all_row_only_leaves_the_groups_not_recorded():
    """UCDP gives one total (low/high/best) and never counts children."""
    totals = compute_totals([row("all", "killed", 5, 9, 7)])

    assert (totals["total_killed_min"], totals["total_killed_max"]) == (5, 9)
    for group in ("civilians", "children", "medical_personnel"):
        assert (totals[f"{group}_killed_min"], totals[f"{group}_killed_max"]) == (
            None,
            None,
        )


def test_a_lone_combatant_row_is_a_floor_of_the_total():
    totals = compute_totals([row("combatants", "killed", 3, 4)])

    assert (totals["total_killed_min"], totals["total_killed_max"]) == (3, None)
    assert totals["civilians_killed_min"] is None
