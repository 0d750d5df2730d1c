"""Syria and its 14 governorates (DOMAIN.md "Location"), with OCHA pcodes (COD-AB),
Arabic names, approximate centroids and the spellings the datasets use.

Every governorate spelling in the shipped UCDP and Insecurity Insight files is a
LocationName here, so importers match them by normalised name (IMPORTS.md, "Places");
tests/incidents/test_reference_data.py reads the files and checks it. Districts and
communities are added by imports and researchers, not here.

Reversing deletes these places and their names; it fails (PROTECT) once anything points
at one of them.
"""

from django.db import migrations

from incidents.text import normalize_name

SYRIA = {
    "slug": "syria",
    "pcode": "SY",
    "name": "Syria",
    "name_ar": "سوريا",
    "latitude": 34.8,
    "longitude": 38.99,
    "names": [
        "Syrian Arab Republic",
        "سورية",
        "الجمهورية العربية السورية",
    ],
}

# (pcode, slug, name, name_ar, latitude, longitude, other spellings). The centroids are
# approximate centres of each governorate's area (Damascus: the city), good enough to
# place a governorate-level incident on the map.
GOVERNORATES = [
    (
        "SY01",
        "damascus",
        "Damascus",
        "دمشق",
        33.51,
        36.29,
        [
            "Damascus Governorate",
            "Damascus City",
            "Dimashq",
            "Dimashq Governorate",
            "محافظة دمشق",
        ],
    ),
    (
        "SY02",
        "aleppo",
        "Aleppo",
        "حلب",
        36.22,
        37.57,
        ["Aleppo Governorate", "Halab", "Halab Governorate", "محافظة حلب"],
    ),
    (
        "SY03",
        "rural-damascus",
        "Rural Damascus",
        "ريف دمشق",
        33.55,
        36.85,
        [
            "Rural Damascus Governorate",
            "Rif Dimashq",
            "Rif Dimashq Governorate",
            "Rif Damascus",
            "Reef Dimashq",
            "Reef Damascus",
            "Damascus countryside",
            "Damascus Countryside Governorate",
            "محافظة ريف دمشق",
        ],
    ),
    (
        "SY04",
        "homs",
        "Homs",
        "حمص",
        34.6,
        38.15,
        ["Homs Governorate", "Hims", "Hims Governorate", "محافظة حمص"],
    ),
    (
        "SY05",
        "hama",
        "Hama",
        "حماة",
        35.2,
        37.0,
        [
            "Hama Governorate",
            "Hamah",
            "Hamah Governorate",
            "Hamma",
            "محافظة حماة",
        ],
    ),
    (
        "SY06",
        "lattakia",
        "Lattakia",
        "اللاذقية",
        35.65,
        35.95,
        [
            "Lattakia Governorate",
            "Latakia",
            "Latakia Governorate",
            "Latakiya",
            "Al-Ladhiqiyah",
            "Al Ladhiqiyah Governorate",
            "محافظة اللاذقية",
        ],
    ),
    (
        "SY07",
        "idleb",
        "Idleb",
        "إدلب",
        35.8,
        36.6,
        [
            "Idleb Governorate",
            "Idlib",
            "Idlib Governorate",
            "محافظة إدلب",
        ],
    ),
    (
        "SY08",
        "al-hasakeh",
        "Al-Hasakeh",
        "الحسكة",
        36.5,
        40.8,
        [
            "Al-Hasakeh Governorate",
            "Hasakeh",
            "Hassakeh",
            "Hasakah",
            "Al Hasakah",
            "Al-Hasakah",
            "Al Hasakah Governorate",
            "Al-Hasakah Governorate",
            "Hasaka",
            "Al-Hasaka",
            "Al-Hasaka Governorate",
            "محافظة الحسكة",
        ],
    ),
    (
        "SY09",
        "deir-ez-zor",
        "Deir-ez-Zor",
        "دير الزور",
        35.1,
        40.2,
        [
            "Deir-ez-Zor Governorate",
            "Deir ez-Zor",
            "Deir ez Zor",
            "Deir ez-Zor Governorate",
            "Deir ez Zor Governorate",
            "Deir Ezzor",
            "Deir Ezzor Governorate",
            "Deir al-Zor",
            "Deir el-Zor",
            "Deir al-Zour",
            "Dayr az Zawr",
            "Dayr az Zawr Governorate",
            "محافظة دير الزور",
        ],
    ),
    (
        "SY10",
        "tartous",
        "Tartous",
        "طرطوس",
        34.9,
        36.05,
        [
            "Tartous Governorate",
            "Tartus",
            "Tartus Governorate",
            "محافظة طرطوس",
        ],
    ),
    (
        "SY11",
        "ar-raqqa",
        "Ar-Raqqa",
        "الرقة",
        35.95,
        38.85,
        [
            "Ar-Raqqa Governorate",
            "Raqqa",
            "Raqqah",
            "Ar Raqqah",
            "Ar-Raqqah",
            "Al-Raqqa",
            "Al-Raqqah",
            "Ar Raqqah Governorate",
            "Ar-Raqqah Governorate",
            "Al-Raqqah Governorate",
            "Raqqa Governorate",
            "محافظة الرقة",
        ],
    ),
    (
        "SY12",
        "dara",
        "Dar'a",
        "درعا",
        32.8,
        36.2,
        [
            "Dar'a Governorate",
            "Daraa",
            "Daraa Governorate",
            "Deraa",
            "Dara",
            "محافظة درعا",
        ],
    ),
    (
        "SY13",
        "as-sweida",
        "As-Sweida",
        "السويداء",
        32.65,
        36.75,
        [
            "As-Sweida Governorate",
            "Sweida",
            "Suwayda",
            "As Suwayda",
            "As-Suwayda",
            "As Suwayda Governorate",
            "As-Suwayda Governorate",
            "Al-Suwayda",
            "Suwaida",
            "محافظة السويداء",
        ],
    ),
    (
        "SY14",
        "quneitra",
        "Quneitra",
        "القنيطرة",
        33.05,
        35.85,
        [
            "Quneitra Governorate",
            "Al-Quneitra",
            "Qunaitra",
            "Al-Qunaitra",
            "Al-Qunaitra Governorate",
            "Al Qunaytirah",
            "Al Qunaytirah Governorate",
            "محافظة القنيطرة",
        ],
    ),
]


def _language(name):
    return "ar" if any("\u0600" <= ch <= "\u06ff" for ch in name) else "en"


def _add_names(location_name_model, place, names):
    seen = set()
    for name in names:
        normalized = normalize_name(name)
        if normalized in seen:
            continue
        seen.add(normalized)
        location_name_model.objects.get_or_create(
            location=place,
            normalized=normalized,
            defaults={"name": name, "language": _language(name)},
        )


def load_gazetteer(apps, schema_editor):
    Location = apps.get_model("incidents", "Location")
    LocationName = apps.get_model("incidents", "LocationName")

    syria, _ = Location.objects.update_or_create(
        pcode=SYRIA["pcode"],
        defaults={
            "slug": SYRIA["slug"],
            "name": SYRIA["name"],
            "name_ar": SYRIA["name_ar"],
            "level": "country",
            "parent": None,
            "latitude": SYRIA["latitude"],
            "longitude": SYRIA["longitude"],
        },
    )
    _add_names(LocationName, syria, [SYRIA["name"], SYRIA["name_ar"], *SYRIA["names"]])

    for pcode, slug, name, name_ar, lat, lon, spellings in GOVERNORATES:
        place, _ = Location.objects.update_or_create(
            pcode=pcode,
            defaults={
                "slug": slug,
                "name": name,
                "name_ar": name_ar,
                "level": "governorate",
                "parent": syria,
                "latitude": lat,
                "longitude": lon,
            },
        )
        _add_names(LocationName, place, [name, name_ar, *spellings])


def unload_gazetteer(apps, schema_editor):
    Location = apps.get_model("incidents", "Location")
    pcodes = [row[0] for row in GOVERNORATES]
    # LocationName rows go with their place (CASCADE); governorates before the country
    # (parent is PROTECT).
    Location.objects.filter(pcode__in=pcodes).delete()
    Location.objects.filter(pcode=SYRIA["pcode"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0003_vocabularies"),
    ]

    operations = [
        migrations.RunPython(load_gazetteer, unload_gazetteer),
    ]
