"""Lowering protection is a reviewer's decision (issue 12 §2; DOMAIN.md "Lowering
protection" and the role table's raise/lower rows).

Every protection (a source's `confidential`, its file's `file_public`, a facility's
`sensitive`, a victim's `publish_name`) × raise/lower × role, through the services that
every path (admin, API, importers) calls: raising is immediate, lowering files a
ProtectionRequest and changes nothing until a reviewer who did not ask approves it,
carrying the object's version.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from pghistory.models import Events

from incidents import services
from incidents.models import (
    Facility,
    Incident,
    ProtectionRequest,
    PublicChange,
    Source,
    Victim,
)
from tests.factories import (
    FacilityFactory,
    SourceFactory,
    TargetTypeFactory,
    admin_user,
    make_incident,
    researcher,
    reviewer,
)

pytestmark = pytest.mark.django_db

ROLES = {"researcher": researcher, "reviewer": reviewer, "admin": admin_user}
Target = ProtectionRequest.Target
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
    b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01"
    b"\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def _victims(*, publish_name: bool, name: str = "Hana K.") -> services.IncidentParts:
    return services.IncidentParts(
        victims=[
            services.VictimData(
                outcome="killed",
                name=name,
                consent_note="Her brother, by phone, 2016-03-01.",
                publish_name=publish_name,
            )
        ]
    )


# Each protection: make an object in its protected state, lower it through its own
# service as `by`, raise it back, and read the stored value.
def _protected_source():
    return SourceFactory(confidential=True)


def _lower_source(obj, by):
    return services.source_update(source=obj, by=by, confidential=False)


def _raise_source(obj, by):
    return services.source_update(source=obj, by=by, confidential=True)


def _file_source():
    return SourceFactory(file_public=False)


def _lower_file(obj, by):
    return services.source_update(source=obj, by=by, file_public=True)


def _raise_file(obj, by):
    return services.source_update(source=obj, by=by, file_public=False)


def _sensitive_facility():
    return FacilityFactory(sensitive=True)


def _lower_facility(obj, by):
    obj.sensitive = False
    return services.facility_save(facility=obj, by=by)


def _raise_facility(obj, by):
    obj.sensitive = True
    return services.facility_save(facility=obj, by=by)


def _victim():
    return make_incident(parts=_victims(publish_name=False)).victims.get()


def _lower_victim(obj, by):
    incident = obj.incident
    return services.incident_update(
        incident=incident,
        expected_version=incident.version,
        parts=_victims(publish_name=True),
        by=by,
    )


PROTECTIONS = {
    Target.SOURCE_CONFIDENTIAL: (_protected_source, _lower_source, _raise_source),
    Target.SOURCE_FILE_PUBLIC: (_file_source, _lower_file, _raise_file),
    Target.FACILITY_SENSITIVE: (_sensitive_facility, _lower_facility, _raise_facility),
    Target.VICTIM_PUBLISH_NAME: (_victim, _lower_victim, None),
}
FIELD = {
    Target.SOURCE_CONFIDENTIAL: (Source, "confidential"),
    Target.SOURCE_FILE_PUBLIC: (Source, "file_public"),
    Target.FACILITY_SENSITIVE: (Facility, "sensitive"),
    Target.VICTIM_PUBLISH_NAME: (Victim, "publish_name"),
}


def _stored(target: str, pk: int):
    model, name = FIELD[target]
    return model.objects.filter(pk=pk).values_list(name, flat=True).first()


def _only_victim(incident) -> Victim:
    return Victim.objects.get(incident=incident)


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("target", list(PROTECTIONS))
def test_anyone_lowering_only_asks_and_nothing_changes(target, role):
    make, lower, _raise = PROTECTIONS[target]
    obj = make()
    by = ROLES[role]()
    protected = _stored(target, obj.pk)

    saved = lower(obj, by)

    pk = (
        _only_victim(obj.incident).pk
        if target == Target.VICTIM_PUBLISH_NAME
        else obj.pk
    )
    assert _stored(target, pk) == protected  # still protected
    asked = ProtectionRequest.objects.get()
    assert saved.protection_requests == [asked]
    assert (asked.target, asked.object_id, asked.value) == (target, pk, not protected)
    assert (asked.status, asked.requested_by, asked.decided_by) == (
        "pending",
        by,
        None,
    )
    if target != Target.VICTIM_PUBLISH_NAME:
        assert getattr(saved, FIELD[target][1]) == protected  # the caller sees it too


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize(
    "target", [t for t, (_m, _l, up) in PROTECTIONS.items() if up is not None]
)
def test_anyone_raising_takes_effect_at_once(target, role):
    make, _lower, raise_ = PROTECTIONS[target]
    obj = make()
    model, name = FIELD[target]
    protected = getattr(obj, name)
    model.objects.filter(pk=obj.pk).update(**{name: not protected})  # unprotected
    obj.refresh_from_db()

    raise_(obj, ROLES[role]())

    assert _stored(target, obj.pk) == protected
    assert not ProtectionRequest.objects.exists()


@pytest.mark.parametrize("role", list(ROLES))
def test_hiding_a_victims_name_takes_effect_at_once(role):
    incident = make_incident(parts=_victims(publish_name=False))
    Victim.objects.filter(incident=incident).update(publish_name=True)
    by = ROLES[role]()  # a draft: every role edits it

    services.incident_update(
        incident=incident,
        expected_version=incident.version,
        parts=_victims(publish_name=False),
        by=by,
    )

    assert _only_victim(incident).publish_name is False
    assert not ProtectionRequest.objects.exists()


def _ask(target=Target.FACILITY_SENSITIVE, by=None):
    make, lower, _raise = PROTECTIONS[target]
    obj = make()
    saved = lower(obj, by or researcher())
    return obj, saved.protection_requests[0]


def _version(asked) -> str:
    return services.protection_object_version(services.protection_object(asked))


@pytest.mark.parametrize("target", list(PROTECTIONS))
def test_a_second_reviewer_approves_and_the_value_is_lowered(target):
    _obj, asked = _ask(target)
    approver = reviewer()

    decided = services.protection_request_approve(
        request=asked, by=approver, expected_version=_version(asked)
    )

    assert decided.status == "approved"
    assert decided.decided_by == approver
    assert decided.decided_at is not None
    assert _stored(target, asked.object_id) == asked.value


@pytest.mark.parametrize("role", ["reviewer", "admin"])
def test_a_reviewer_cannot_approve_their_own_lowering(role):
    asker = ROLES[role]()
    obj, asked = _ask(by=asker)

    with pytest.raises(PermissionDenied, match="four-eyes"):
        services.protection_request_approve(
            request=asked, by=asker, expected_version=_version(asked)
        )
    with pytest.raises(PermissionDenied, match="four-eyes"):
        services.protection_request_reject(
            request=asked, by=asker, expected_version=_version(asked)
        )

    assert _stored(Target.FACILITY_SENSITIVE, obj.pk) is True
    asked.refresh_from_db()
    assert asked.status == "pending"


def test_a_researcher_cannot_decide():
    obj, asked = _ask()

    with pytest.raises(PermissionDenied, match="reviewers"):
        services.protection_request_approve(
            request=asked, by=researcher(), expected_version=_version(asked)
        )

    assert _stored(Target.FACILITY_SENSITIVE, obj.pk) is True


def test_the_database_refuses_a_requester_deciding_their_own_request():
    _obj, asked = _ask()
    asked.status = "approved"
    asked.decided_by = asked.requested_by

    with pytest.raises(ValidationError, match="cannot decide"):
        asked.full_clean()


def test_an_object_changed_since_the_request_is_refused_and_asked_again():
    obj, asked = _ask(Target.SOURCE_CONFIDENTIAL)
    old = _version(asked)
    # Someone adds an identifying detail to the confidential source after the request.
    services.source_update(source=obj, by=researcher(), author="Dr. Y, Idlib hospital")

    for sent in (old, _version(asked)):
        with pytest.raises(services.StaleProtectionVersion, match="asks again"):
            services.protection_request_approve(
                request=asked, by=reviewer(), expected_version=sent
            )

    assert _stored(Target.SOURCE_CONFIDENTIAL, obj.pk) is True
    asked.refresh_from_db()
    assert asked.status == "pending"


def test_an_approval_carrying_an_old_version_is_refused():
    obj, asked = _ask(Target.SOURCE_CONFIDENTIAL)

    with pytest.raises(services.StaleProtectionVersion):
        services.protection_request_approve(
            request=asked, by=reviewer(), expected_version="1"
        )

    assert _stored(Target.SOURCE_CONFIDENTIAL, obj.pk) is True


def test_rejection_leaves_it_protected_and_cannot_be_approved_later():
    obj, asked = _ask()

    services.protection_request_reject(
        request=asked, by=reviewer(), expected_version=_version(asked), note="No."
    )

    assert _stored(Target.FACILITY_SENSITIVE, obj.pk) is True
    with pytest.raises(ValidationError, match="already rejected"):
        services.protection_request_approve(
            request=asked, by=reviewer(), expected_version=_version(asked)
        )
    assert _stored(Target.FACILITY_SENSITIVE, obj.pk) is True


def test_approval_is_audited_with_both_names():
    asker, approver = researcher(), reviewer()
    obj, asked = _ask(Target.SOURCE_CONFIDENTIAL, by=asker)

    services.protection_request_approve(
        request=asked, by=approver, expected_version=_version(asked)
    )

    lowered = Events.objects.tracks(obj).filter(pgh_data__confidential=False).get()
    context = lowered.pgh_context
    assert context["user"] == approver.pk
    assert context["requested_by"] == asker.pk
    assert asker.username in context["reason"]
    assert approver.username in context["reason"]


def test_approval_bumps_every_published_incident_showing_it():
    hospital = TargetTypeFactory(code="hospital")
    facility = FacilityFactory(sensitive=True, target_type=hospital)
    parts = services.IncidentParts(
        targets=[services.TargetData(target_type=hospital, facility=facility)]
    )
    published = make_incident(status=Incident.Status.PUBLISHED, parts=parts)
    draft = make_incident(parts=parts)
    before = published.version
    feed = PublicChange.objects.count()
    _lower_facility(Facility.objects.get(pk=facility.pk), researcher())
    asked = ProtectionRequest.objects.get()

    published.refresh_from_db()
    assert published.version == before  # asking changed nothing public
    assert PublicChange.objects.count() == feed

    services.protection_request_approve(
        request=asked, by=reviewer(), expected_version=_version(asked)
    )

    published.refresh_from_db()
    draft.refresh_from_db()
    assert published.version > before
    assert published.public_geo_precision != "district"
    assert PublicChange.objects.filter(incident=published, action="updated").exists()
    assert not PublicChange.objects.filter(incident=draft).exists()


def test_publishing_an_incident_never_approves_anything():
    incident = make_incident(
        status=Incident.Status.IN_REVIEW, parts=_victims(publish_name=True)
    )
    asked = ProtectionRequest.objects.get()

    services.incident_publish(
        incident=incident, expected_version=incident.version, by=reviewer()
    )

    asked.refresh_from_db()
    assert asked.status == "pending"
    assert _only_victim(incident).publish_name is False


def test_a_new_victims_name_starts_protected():
    by = researcher()

    incident = make_incident(by=by, parts=_victims(publish_name=True))

    victim = _only_victim(incident)
    assert victim.publish_name is False
    assert incident.protection_requests == [ProtectionRequest.objects.get()]
    assert incident.protection_requests[0].object_id == victim.pk


def test_a_name_already_public_stays_public_when_the_list_is_saved_again():
    incident = make_incident(parts=_victims(publish_name=False))
    Victim.objects.filter(incident=incident).update(publish_name=True)
    incident.refresh_from_db()

    saved = services.incident_update(
        incident=incident,
        expected_version=incident.version,
        parts=_victims(publish_name=True),
        by=researcher(),
    )
    renamed = services.incident_update(
        incident=saved,
        expected_version=saved.version,
        parts=_victims(publish_name=True, name="Another Name"),
        by=researcher(),
    )

    assert saved.protection_requests == []
    assert _only_victim(incident).publish_name is False  # a new name: protected
    assert len(renamed.protection_requests) == 1


@pytest.mark.parametrize("role", list(ROLES))
def test_a_new_file_starts_protected(role):
    by = ROLES[role]()

    source = services.source_create(
        by=by,
        kind="photo",
        title="Photo",
        file=SimpleUploadedFile("p.png", PNG),
        file_public=True,
    )

    assert Source.objects.get(pk=source.pk).file_public is False
    assert [r.target for r in source.protection_requests] == [Target.SOURCE_FILE_PUBLIC]


def test_a_source_or_facility_created_unprotected_is_simply_what_it_is():
    source = services.source_create(
        by=researcher(), kind="news_report", title="Public report", confidential=False
    )
    facility = services.facility_save(
        facility=Facility(
            slug="clinic",
            name="Clinic",
            target_type=TargetTypeFactory(code="hospital"),
            location=FacilityFactory().location,
            sensitive=False,
        ),
        by=researcher(),
    )

    assert Source.objects.get(pk=source.pk).confidential is False
    assert Facility.objects.get(pk=facility.pk).sensitive is False
    assert not ProtectionRequest.objects.exists()


def test_a_write_without_a_person_cannot_lower_a_protection():
    """Imports and seeds (by=None) have nobody to ask in their name: refused."""
    source = SourceFactory(confidential=True)
    facility = FacilityFactory(sensitive=True)

    with pytest.raises(PermissionDenied, match="second person"):
        services.source_update(source=source, by=None, confidential=False)
    facility.sensitive = False
    with pytest.raises(PermissionDenied, match="second person"):
        services.facility_save(facility=facility, by=None)

    assert _stored(Target.SOURCE_CONFIDENTIAL, source.pk) is True
    assert _stored(Target.FACILITY_SENSITIVE, facility.pk) is True


def test_a_victims_name_is_published_only_through_an_approval():
    victim = _victim()

    with pytest.raises(PermissionDenied):
        services.victim_name_publish(victim=victim, by=admin_user(), reason="x")

    assert _only_victim(victim.incident).publish_name is False


def test_asking_twice_returns_the_pending_request():
    obj, asked = _ask(Target.SOURCE_CONFIDENTIAL)

    again = _lower_source(obj, reviewer())

    assert again.protection_requests == [asked]
    assert ProtectionRequest.objects.count() == 1


def test_a_lowering_with_other_edits_applies_the_edits_only():
    source = SourceFactory(confidential=True, title="Witness statement")

    services.source_update(
        source=source,
        by=researcher(),
        title="Witness statement (2)",
        confidential=False,
    )

    source.refresh_from_db()
    assert (source.title, source.confidential) == ("Witness statement (2)", True)
    asked = ProtectionRequest.objects.get()
    assert asked.object_version == services.protection_object_version(source)
