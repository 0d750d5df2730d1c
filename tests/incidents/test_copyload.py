"""copy_create (COPY) stores exactly what bulk_create (INSERT) stores."""

import datetime as dt

import pytest
from django.forms.models import model_to_dict

from incidents.copyload import copy_create
from incidents.importers.base import quiet_triggers
from incidents.models import Citation, ExternalRef, Incident, IncidentEvent
from tests.factories import SourceFactory, make_incident

pytestmark = pytest.mark.django_db

AWKWARD = [
    "",
    "plain",
    'a "quoted" word',
    "tab\there",
    "line\nbreak\r\nand CR",
    "back\\slash",
    "\\N",
    "NULL",
    "comma, and ; semicolon",
    "قصف على مخبز في حلب 🙂",
]


def stored(model, objects, exclude=("id",)):
    rows = model.objects.filter(pk__in=[o.pk for o in objects]).order_by("pk")
    return [
        {k: v for k, v in model_to_dict(row).items() if k not in exclude}
        for row in rows
    ]


def test_text_json_dates_and_nulls_round_trip_as_with_bulk_create():
    incident = make_incident()

    def refs(system):
        return [
            ExternalRef(
                incident=incident,
                system=system,
                value=f"{n}:{text}",
                url="" if n % 2 else f"https://example.org/{n}",
                release=text,
                release_date=None if n % 3 else dt.date(2019, 12, 1),
                raw=None
                if n == 0
                else {"text": text, "n": n, "list": [1, None, "x"], "nested": {}},
            )
            for n, text in enumerate(AWKWARD)
        ]

    inserted = ExternalRef.objects.bulk_create(refs("ucdp_ged"))
    copied = copy_create(ExternalRef, refs("acled"))

    assert all(o.pk for o in copied)
    assert len({o.pk for o in copied} | {o.pk for o in inserted}) == 2 * len(AWKWARD)
    as_inserted = stored(ExternalRef, inserted, exclude=("id", "system"))
    as_copied = stored(ExternalRef, copied, exclude=("id", "system"))
    assert as_copied == as_inserted
    assert as_copied[0]["value"] == "0:"
    assert as_copied[0]["raw"] is None


def test_arrays_and_every_incident_column_match_bulk_create():
    incident = make_incident()

    def citations():
        source = SourceFactory()
        return [
            Citation(incident=incident, source=source, supports=[], excerpt=AWKWARD[4]),
            Citation(
                incident=incident,
                source=source,
                supports=["date", "casualties"],
                excerpt="",
                locator='p. "3"',
            ),
        ]

    exclude_source = ("id", "source")
    assert stored(Citation, copy_create(Citation, citations()), exclude_source) == (
        stored(Citation, Citation.objects.bulk_create(citations()), exclude_source)
    )

    template = {
        field.attname: getattr(incident, field.attname)
        for field in Incident._meta.concrete_fields
        if not field.primary_key and not getattr(field, "generated", False)
    }

    def incidents(prefix):
        made = []
        for n, text in enumerate(AWKWARD):
            values = dict(template)
            values.update(code=f"{prefix}-{n:05d}", title=text or "x", summary=text)
            made.append(Incident(**values))
        return made

    exclude = ("id", "code", "created_at", "updated_at")
    with quiet_triggers(Incident):
        copied = copy_create(Incident, incidents("SY-1990"))
    assert stored(Incident, copied, exclude) == stored(
        Incident, Incident.objects.bulk_create(incidents("SY-1991")), exclude
    )
    # The generated search column is computed for copied rows as for inserted ones.
    found = Incident.objects.filter(search_vector="مخبز").values_list("code", flat=True)
    assert {"SY-1990-00009", "SY-1991-00009"} <= set(found)


def test_ignored_triggers_stay_quiet_and_others_fire():
    incident = make_incident()
    template = {
        field.attname: getattr(incident, field.attname)
        for field in Incident._meta.concrete_fields
        if not field.primary_key and not getattr(field, "generated", False)
    }
    before = IncidentEvent.objects.count()

    with quiet_triggers(Incident):
        quiet = copy_create(
            Incident, [Incident(**{**template, "code": "SY-1990-00001"})]
        )
    assert IncidentEvent.objects.count() == before

    loud = copy_create(Incident, [Incident(**{**template, "code": "SY-1990-00002"})])
    assert IncidentEvent.objects.filter(pgh_obj_id=loud[0].pk).count() == 1
    assert not IncidentEvent.objects.filter(pgh_obj_id=quiet[0].pk).exists()


def test_an_object_with_a_key_is_refused():
    incident = make_incident()
    with pytest.raises(ValueError, match="already has a primary key"):
        copy_create(Incident, [incident])
