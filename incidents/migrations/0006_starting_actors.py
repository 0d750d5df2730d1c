"""The starting actor table (DOMAIN.md "Actor", IMPORTS.md "Actors").

Every perpetrator name in the shipped datasets is an actor's name or alias here, so the
importers match them and create no "unknown" actors: UCDP's side_a/side_b groups (a side
"A, B, C" is several groups) and Insecurity Insight's Reported Perpetrator Name values.
tests/incidents/test_reference_data.py reads the files and checks it.

Blocs (the headline comparison groups) follow what a journalist would expect to be
compared, and a few calls are judgements, said where they are made:
- `hts` is the Jabhat al-Nusra → Jabhat Fateh al-Sham → Hay'at Tahrir al-Sham line and
  the administration it backs. Other jihadist groups (al-Qaida and Hurras al-Din, the
  Turkistan Islamic Party, Caucasian fighters, Liwa al-Aqsa, …) are `other`: they were
  HTS's allies at times and its enemies at others, and counting them as HTS would
  charge HTS with their acts.
- UCDP names opposition factions one by one; they are `armed_opposition`, whatever
  their later coalition (a faction's coalition changed over the years, its bloc not).
- Palestinian factions are `other`: their alignment differs by faction and year.
- Foreign states other than Russia, Iran, Turkey and the US-led coalition are `other`.
- Clans and the non-military categories of Insecurity Insight are `other`; "Militia"
  (an armed group nobody identified) is `unidentified`.

Names are as the sources spell them; the Arabic name is left empty where we are not
sure of it, rather than guessed. Relations carry no citation yet: their note says what
is commonly documented, for a researcher to source.

Reversing deletes these actors with their names and relations; it fails (PROTECT) once
an incident is attributed to one of them.
"""

import datetime as dt

from django.db import migrations

from incidents.text import normalize_name

SY = "SY"


def a(
    slug,
    name,
    kind,
    bloc=None,
    *,
    parent=None,
    name_ar="",
    country="",
    aliases=(),
    description="",
):
    return {
        "slug": slug,
        "name": name,
        "name_ar": name_ar,
        "kind": kind,
        "bloc": bloc,
        "parent": parent,
        "country": country,
        "aliases": list(aliases),
        "description": description,
    }


# Parents come before their children; a child without a bloc takes its parent's.
ACTORS = [
    # --- Syrian government ------------------------------------------------------------
    a(
        "syrian-arab-armed-forces",
        "Syrian Arab Armed Forces",
        "state_force",
        "syrian_government",
        name_ar="القوات المسلحة العربية السورية",
        country=SY,
        aliases=[
            "Government of Syria",
            "Syrian Armed Forces",
            "Syrian Forces",
            "Syrian government forces",
            "Syrian regime forces",
            "Regime forces",
            "قوات النظام",
            "القوات الحكومية السورية",
        ],
        description="The armed forces of the Syrian government. UCDP's \"Government of "
        'Syria" also covers Russian air strikes, which it does not tell apart.',
    ),
    a(
        "syrian-arab-army",
        "Syrian Arab Army",
        "state_force",
        parent="syrian-arab-armed-forces",
        name_ar="الجيش العربي السوري",
        country=SY,
        aliases=["SAA", "Syrian Army", "الجيش السوري"],
        description="The Syrian government's ground forces.",
    ),
    a(
        "25th-special-mission-forces-division",
        "25th Special Mission Forces Division",
        "state_unit",
        parent="syrian-arab-army",
        name_ar="الفرقة 25 مهام خاصة",
        country=SY,
        aliases=[
            "Tiger Forces",
            "Qawat al-Nimr",
            "قوات النمر",
            "Division 25",
            "25th Division",
        ],
        description="An elite Syrian Arab Army division led by Suheil al-Hassan, known "
        "as the Tiger Forces until it was made a division in 2019.",
    ),
    a(
        "4th-armoured-division",
        "4th Armoured Division",
        "state_unit",
        parent="syrian-arab-army",
        name_ar="الفرقة الرابعة",
        country=SY,
        aliases=["4th Division", "Fourth Division", "4th Armored Division"],
        description="An elite Syrian Arab Army division under the command of Maher "
        "al-Assad.",
    ),
    a(
        "republican-guard",
        "Republican Guard",
        "state_unit",
        parent="syrian-arab-army",
        name_ar="الحرس الجمهوري",
        country=SY,
        aliases=["Syrian Republican Guard"],
        description="An elite Syrian Arab Army formation charged with protecting "
        "Damascus and the government.",
    ),
    a(
        "syrian-arab-air-force",
        "Syrian Arab Air Force",
        "state_force",
        parent="syrian-arab-armed-forces",
        name_ar="القوات الجوية العربية السورية",
        country=SY,
        aliases=["SyAAF", "Syrian Air Force"],
        description="The Syrian government's air force, whose helicopters dropped the "
        "barrel bombs.",
    ),
    a(
        "national-defence-forces",
        "National Defence Forces",
        "militia",
        "syrian_government",
        name_ar="قوات الدفاع الوطني",
        country=SY,
        aliases=["NDF (Syria)", "NDF", "National Defense Forces"],
        description="Pro-government militias organised from 2012 out of the local "
        '"popular committees", fighting alongside the army.',
    ),
    a(
        "syrian-public-security-police",
        "Syrian Public Security Police",
        "state_force",
        "syrian_government",
        country=SY,
        aliases=["Syrian police"],
        description="The Syrian government's police. Insecurity Insight also uses this "
        "name for police of other authorities (the Syrian National Army's military "
        "police, local security committees in Idlib): check the event before counting.",
    ),
    a(
        "air-force-intelligence-directorate",
        "Air Force Intelligence Directorate",
        "state_force",
        "syrian_government",
        name_ar="إدارة المخابرات الجوية",
        country=SY,
        aliases=["Air Force Intelligence", "المخابرات الجوية"],
        description="A Syrian government intelligence agency known for mass arrests "
        "and for torture and deaths in its detention centres.",
    ),
    a(
        "military-intelligence-directorate",
        "Military Intelligence Directorate",
        "state_force",
        "syrian_government",
        name_ar="شعبة المخابرات العسكرية",
        country=SY,
        aliases=["Military Intelligence", "Military Security", "الأمن العسكري"],
        description="A Syrian government intelligence agency whose branches held and "
        "tortured many detainees.",
    ),
    # --- Russia -----------------------------------------------------------------------
    a(
        "russian-armed-forces",
        "Russian Armed Forces",
        "foreign_state_force",
        "russia",
        name_ar="القوات المسلحة الروسية",
        country="RU",
        aliases=[
            "Armed Forces of the Russian Federation",
            "Government of Russia",
            "Russian Forces",
            "Russian military",
            "القوات الروسية",
        ],
        description="Russia's armed forces, which intervened in Syria on the "
        "government's side on 30 September 2015.",
    ),
    a(
        "russian-aerospace-forces",
        "Russian Aerospace Forces",
        "foreign_state_force",
        parent="russian-armed-forces",
        name_ar="القوات الجوية الفضائية الروسية",
        country="RU",
        aliases=["VKS", "Russian Air Force"],
        description="Russia's air force, which has carried out Russia's air campaign "
        "in Syria since September 2015.",
    ),
    a(
        "russian-military-police",
        "Russian Military Police",
        "foreign_state_force",
        parent="russian-armed-forces",
        name_ar="الشرطة العسكرية الروسية",
        country="RU",
        description="Russian military police units deployed in Syria from 2016.",
    ),
    a(
        "wagner-group",
        "Wagner Group",
        "armed_group",
        "russia",
        name_ar="مجموعة فاغنر",
        country="RU",
        aliases=["Wagner", "PMC Wagner"],
        description="A Russian private military company whose fighters served "
        "alongside Syrian government forces.",
    ),
    # --- Iran and affiliated ----------------------------------------------------------
    a(
        "iranian-armed-forces",
        "Iranian Armed Forces",
        "foreign_state_force",
        "iran_and_affiliated",
        name_ar="القوات المسلحة الإيرانية",
        country="IR",
        aliases=[
            "Government of Iran",
            "Armed Forces of the Islamic Republic of Iran",
            "Iranian forces",
        ],
        description="Iran's armed forces; in Syria mostly the Revolutionary Guards and "
        "the militias they recruited.",
    ),
    a(
        "islamic-revolutionary-guard-corps",
        "Islamic Revolutionary Guard Corps",
        "foreign_state_force",
        parent="iranian-armed-forces",
        name_ar="الحرس الثوري الإيراني",
        country="IR",
        aliases=[
            "IRGC",
            "Iranian Revolutionary Guards",
            "Revolutionary Guards",
            "الحرس الثوري",
        ],
        description="Iran's Revolutionary Guards, who led Iran's military role in "
        "Syria and the militias allied with it.",
    ),
    a(
        "quds-force",
        "Quds Force",
        "foreign_state_force",
        parent="islamic-revolutionary-guard-corps",
        name_ar="فيلق القدس",
        country="IR",
        aliases=["IRGC Quds Force", "IRGC-QF"],
        description="The Revolutionary Guards' branch for operations abroad, which "
        "organised Iran's allied militias in Syria.",
    ),
    a(
        "hezbollah",
        "Hezbollah",
        "armed_group",
        "iran_and_affiliated",
        name_ar="حزب الله",
        country="LB",
        aliases=["Hizbullah", "Hizballah", "Lebanese Hezbollah"],
        description="The Lebanese Shia movement and armed group, backed by Iran, which "
        "has fought for the Syrian government since 2012.",
    ),
    a(
        "fatemiyoun-division",
        "Fatemiyoun Division",
        "militia",
        "iran_and_affiliated",
        name_ar="لواء فاطميون",
        aliases=["Fatemiyoun", "Liwa Fatemiyoun", "Fatemiyoun Brigade"],
        description="Afghan Shia fighters recruited and commanded by Iran's "
        "Revolutionary Guards to fight for the Syrian government.",
    ),
    a(
        "zainebiyoun-brigade",
        "Zainebiyoun Brigade",
        "militia",
        "iran_and_affiliated",
        name_ar="لواء زينبيون",
        aliases=["Zainebiyoun", "Liwa Zainebiyoun"],
        description="Pakistani Shia fighters recruited by Iran's Revolutionary Guards "
        "to fight for the Syrian government.",
    ),
    # --- Islamic State ----------------------------------------------------------------
    a(
        "islamic-state",
        "Islamic State",
        "armed_group",
        "isis",
        name_ar="تنظيم الدولة الإسلامية",
        aliases=[
            "IS",
            "ISIS",
            "ISIL",
            "Daesh",
            "Islamic State of Iraq and the Levant",
            "Islamic State of Iraq and Syria",
            "داعش",
            "الدولة الإسلامية",
        ],
        description='The jihadist group that declared a "caliphate" across Syria and '
        "Iraq in 2014, with Raqqa as its Syrian capital until 2017.",
    ),
    a(
        "khalid-ibn-al-walid-army",
        "Khalid ibn al-Walid Army",
        "armed_group",
        parent="islamic-state",
        name_ar="جيش خالد بن الوليد",
        country=SY,
        aliases=["Jaysh Khalid ibn al-Walid", "Jaish Khalid Bin al-Waleed"],
        description="The Islamic State's affiliate in the Yarmouk Basin of Dar'a, "
        "formed in 2016 and defeated in 2018.",
    ),
    # Aligned with the Islamic State and merged into its affiliate in the Yarmouk Basin:
    # counted with it.
    a(
        "yarmouk-martyrs-brigade",
        "Yarmouk Martyrs Brigade",
        "armed_group",
        "isis",
        name_ar="لواء شهداء اليرموك",
        country=SY,
        aliases=["Shohadaa al-Yarmouk", "Liwa Shuhada al-Yarmouk"],
        description="A group in the Yarmouk Basin of Dar'a that aligned with the "
        "Islamic State and merged into the Khalid ibn al-Walid Army in 2016.",
    ),
    # --- Hay'at Tahrir al-Sham and its predecessors -----------------------------------
    a(
        "jabhat-al-nusra",
        "Jabhat al-Nusra",
        "armed_group",
        "hts",
        name_ar="جبهة النصرة",
        country=SY,
        aliases=[
            "al-Nusra Front",
            "Nusra Front",
            "al Nusra-Front Al Queda in Syria",
            "Jabhat al-Nusra li-Ahl al-Sham",
            "جبهة النصرة لأهل الشام",
        ],
        description="Al-Qaida's Syrian branch, announced in January 2012; renamed "
        "Jabhat Fateh al-Sham in July 2016.",
    ),
    a(
        "jabhat-fateh-al-sham",
        "Jabhat Fateh al-Sham",
        "armed_group",
        "hts",
        name_ar="جبهة فتح الشام",
        country=SY,
        aliases=["JFS", "Jabhat Fatah al-Sham", "Front for the Conquest of the Levant"],
        description="Jabhat al-Nusra's name from July 2016, when it announced its "
        "split from al-Qaida, until it formed Hay'at Tahrir al-Sham in January 2017. "
        "UCDP uses this name for the group's al-Nusra years too.",
    ),
    a(
        "hayat-tahrir-al-sham",
        "Hay'at Tahrir al-Sham",
        "armed_group",
        "hts",
        name_ar="هيئة تحرير الشام",
        country=SY,
        aliases=[
            "HTS",
            "Tahrir al-Sham",
            "Hayat Tahrir al-Sham",
            "Hayyat Tahrir al-Sham",
        ],
        description="The jihadist coalition formed in January 2017 around Jabhat Fateh "
        "al-Sham; it controlled most of Idlib from 2019.",
    ),
    a(
        "syrian-salvation-government",
        "Syrian Salvation Government",
        "other",
        "hts",
        name_ar="حكومة الإنقاذ السورية",
        country=SY,
        aliases=["Salvation Government"],
        description="The civil administration set up in Idlib in November 2017 with "
        "the backing of Hay'at Tahrir al-Sham.",
    ),
    # --- Other jihadist groups (bloc other: see the module docstring) -----------------
    a(
        "al-qaida",
        "al-Qaida",
        "armed_group",
        "other",
        name_ar="تنظيم القاعدة",
        aliases=["al-Qaeda", "Al Qaeda"],
        description="The global jihadist organisation. In UCDP's Syria data, its "
        "senior figures targeted by US strikes in 2017.",
    ),
    a(
        "hurras-al-din",
        "Hurras al-Din",
        "armed_group",
        "other",
        name_ar="تنظيم حراس الدين",
        country=SY,
        aliases=["Tanzim Hurras ad-Din", "Hurras ad-Din", "Guardians of Religion"],
        description="Al-Qaida loyalists who broke with Hay'at Tahrir al-Sham and "
        "formed their own group in 2018.",
    ),
    a(
        "turkistan-islamic-party",
        "Turkistan Islamic Party",
        "armed_group",
        "other",
        name_ar="الحزب الإسلامي التركستاني",
        aliases=["ETIM", "East Turkestan Islamic Movement", "TIP"],
        description="A Uyghur jihadist group with fighters in Idlib and Latakia, "
        "allied with Jabhat al-Nusra and later Hay'at Tahrir al-Sham.",
    ),
    a(
        "ajnad-al-kavkaz",
        "Ajnad al-Kavkaz",
        "armed_group",
        "other",
        name_ar="أجناد القوقاز",
        description="A jihadist group of fighters from the North Caucasus, active in "
        "Latakia and Idlib.",
    ),
    a(
        "liwa-al-aqsa",
        "Liwa al-Aqsa",
        "armed_group",
        "other",
        name_ar="لواء الأقصى",
        country=SY,
        description="A jihadist group formed in early 2017 by Jund al-Aqsa members "
        "close to the Islamic State; it fought Hay'at Tahrir al-Sham in Idlib.",
    ),
    a(
        "jund-al-malahem",
        "Jund al-Malahem",
        "armed_group",
        "other",
        name_ar="جند الملاحم",
        country=SY,
        description="A small jihadist group in Idlib, recorded by UCDP fighting Hay'at "
        "Tahrir al-Sham in 2017.",
    ),
    a(
        "jaish-al-muhajireen-wal-ansar",
        "Jaish al-Muhajireen wal-Ansar",
        "armed_group",
        "other",
        name_ar="جيش المهاجرين والأنصار",
        description="A jihadist group led by foreign fighters from the Caucasus, "
        "formed in 2013; part of it joined the Islamic State and the rest Jabhat "
        "al-Nusra.",
    ),
    # --- Armed opposition -------------------------------------------------------------
    a(
        "syrian-insurgents",
        "Syrian insurgents",
        "armed_group",
        "armed_opposition",
        name_ar="فصائل المعارضة السورية المسلحة",
        country=SY,
        description="UCDP's name for the Syrian armed opposition as a whole, used when "
        "its sources do not name the factions.",
    ),
    a(
        "free-syrian-army",
        "Free Syrian Army",
        "armed_group",
        "armed_opposition",
        name_ar="الجيش السوري الحر",
        country=SY,
        aliases=["FSA", "الجيش الحر"],
        description="The loose umbrella of armed opposition factions formed from 2011 "
        "by army defectors and local fighters.",
    ),
    a(
        "syrian-national-army",
        "Syrian National Army",
        "armed_group",
        "armed_opposition",
        name_ar="الجيش الوطني السوري",
        country=SY,
        aliases=["SNA"],
        description="The Turkish-backed coalition of opposition factions formed in "
        "northern Aleppo at the end of 2017; the National Front for Liberation joined "
        "it in October 2019.",
    ),
    a(
        "national-front-for-liberation",
        "National Front for Liberation",
        "armed_group",
        "armed_opposition",
        name_ar="الجبهة الوطنية للتحرير",
        country=SY,
        aliases=["NFL", "National Liberation Front"],
        description="A Turkish-backed coalition of opposition factions in and around "
        "Idlib, formed in 2018; it merged into the Syrian National Army in 2019.",
    ),
    a(
        "jaysh-al-islam",
        "Jaysh al-Islam",
        "armed_group",
        "armed_opposition",
        name_ar="جيش الإسلام",
        country=SY,
        aliases=["Jaish al-Islam", "Jaysh al Islam", "Army of Islam"],
        description="An Islamist opposition group that held Douma in Eastern Ghouta "
        "until 2018, then moved to the north.",
    ),
    a(
        "ahrar-al-sham",
        "Ahrar al-Sham",
        "armed_group",
        "armed_opposition",
        name_ar="حركة أحرار الشام الإسلامية",
        country=SY,
        aliases=["Harakat Ahrar al-Sham al-Islamiyya", "أحرار الشام"],
        description="A large Salafist opposition movement founded in 2011, strongest "
        "in Idlib and Hama.",
    ),
    a(
        "sham-legion",
        "Sham Legion",
        "armed_group",
        "armed_opposition",
        name_ar="فيلق الشام",
        country=SY,
        aliases=["Faylaq al-Sham"],
        description="An Islamist opposition group in Idlib and Aleppo, later part of "
        "the National Front for Liberation.",
    ),
    a(
        "rahman-corps",
        "Rahman Corps",
        "armed_group",
        "armed_opposition",
        name_ar="فيلق الرحمن",
        country=SY,
        aliases=["Faylaq al-Rahman", "al-Rahman Legion"],
        description="An opposition group in Eastern Ghouta until 2018.",
    ),
    a(
        "rahman-corps-abu-al-joud-al-arbini-faction",
        "Abu al-Joud al-Arbini faction (Rahman Corps)",
        "armed_group",
        parent="rahman-corps",
        country=SY,
        aliases=["Rahman Corps - “Abu al-Joud al-Arbini” faction"],
        description="A faction of the Rahman Corps, recorded by UCDP fighting the rest "
        "of it in Eastern Ghouta in 2017.",
    ),
    a(
        "levant-front",
        "Levant Front",
        "armed_group",
        "armed_opposition",
        name_ar="الجبهة الشامية",
        country=SY,
        aliases=["Al-Jabha al-Shamiyyah", "Shamiya Front"],
        description="An Aleppo opposition coalition formed in December 2014, later "
        "part of the Syrian National Army.",
    ),
    a(
        "nour-al-din-al-zenki-movement",
        "Nour al-Din al-Zenki Movement",
        "armed_group",
        "armed_opposition",
        name_ar="حركة نور الدين الزنكي",
        country=SY,
        aliases=["Nour al-Din al-Zenki"],
        description="An opposition group from western Aleppo; it joined Hay'at Tahrir "
        "al-Sham briefly in 2017, then fought it and was driven out in January 2019.",
    ),
    a(
        "syrian-liberation-front",
        "Syrian Liberation Front",
        "armed_group",
        "armed_opposition",
        name_ar="جبهة تحرير سوريا",
        country=SY,
        description="The merger of Ahrar al-Sham and the Nour al-Din al-Zenki Movement "
        "in 2018.",
    ),
    a(
        "southern-front",
        "Southern Front",
        "armed_group",
        "armed_opposition",
        name_ar="الجبهة الجنوبية",
        country=SY,
        description="The alliance of Free Syrian Army factions in Dar'a and Quneitra, "
        "until the government retook the south in 2018.",
    ),
    a(
        "islamic-front",
        "Islamic Front",
        "armed_group",
        "armed_opposition",
        name_ar="الجبهة الإسلامية",
        country=SY,
        description="A coalition of Islamist opposition groups formed in November "
        "2013, among them Ahrar al-Sham and Jaysh al-Islam.",
    ),
    a(
        "mujahideen-army",
        "Mujahideen Army",
        "armed_group",
        "armed_opposition",
        name_ar="جيش المجاهدين",
        country=SY,
        aliases=["Jaysh al-Mujahideen"],
        description="An Aleppo opposition coalition formed in January 2014 to fight "
        "the Islamic State.",
    ),
    a(
        "syria-revolutionaries-front",
        "Syria Revolutionaries Front",
        "armed_group",
        "armed_opposition",
        name_ar="جبهة ثوار سوريا",
        country=SY,
        aliases=["SRF", "Syrian Revolutionaries Front"],
        description="A Free Syrian Army coalition led by Jamal Maarouf, driven out of "
        "Idlib by Jabhat al-Nusra in 2014; its southern factions fought on.",
    ),
    a(
        "suqour-al-sham-brigades",
        "Suqour al-Sham Brigades",
        "armed_group",
        "armed_opposition",
        name_ar="ألوية صقور الشام",
        country=SY,
        aliases=["Suqour al-Sham"],
        description="An Islamist opposition group from Jabal al-Zawiya in Idlib.",
    ),
    a(
        "13th-division",
        "13th Division",
        "armed_group",
        "armed_opposition",
        name_ar="الفرقة 13",
        country=SY,
        description="A Free Syrian Army group based in Maarat al-Numan, Idlib.",
    ),
    a(
        "23rd-division",
        "23rd Division",
        "armed_group",
        "armed_opposition",
        name_ar="الفرقة 23",
        country=SY,
        description="A Free Syrian Army group, recorded by UCDP in northern Syria.",
    ),
    a(
        "jaysh-al-nasr",
        "Jaysh al-Nasr",
        "armed_group",
        "armed_opposition",
        name_ar="جيش النصر",
        country=SY,
        aliases=["Jaysh al Nasr"],
        description="A Free Syrian Army coalition in Hama and Idlib.",
    ),
    a(
        "jaysh-al-nukhba",
        "Jaysh al-Nukhba",
        "armed_group",
        "armed_opposition",
        name_ar="جيش النخبة",
        country=SY,
        description="A Free Syrian Army group in Idlib and Hama.",
    ),
    a(
        "hawar-kilis-operations-room",
        "Hawar Kilis Operations Room",
        "armed_group",
        "armed_opposition",
        name_ar="غرفة عمليات حوار كلس",
        country=SY,
        description="The joint command of Free Syrian Army factions in the north of "
        "Aleppo governorate, on the Turkish border, in 2016.",
    ),
    a(
        "fatah-halab",
        "Fatah Halab",
        "armed_group",
        "armed_opposition",
        name_ar="غرفة عمليات فتح حلب",
        country=SY,
        aliases=["Aleppo Conquest"],
        description="The joint operations room of opposition factions in Aleppo from "
        "2015.",
    ),
    a(
        "mare-operations-room",
        "Mare' Operations Room",
        "armed_group",
        "armed_opposition",
        name_ar="غرفة عمليات مارع",
        country=SY,
        description="The joint command of opposition factions in and around Mare', "
        "north of Aleppo, recorded by UCDP fighting the Islamic State and the SDF in "
        "2016.",
    ),
    a(
        "euphrates-shield-factions",
        "Euphrates Shield factions",
        "armed_group",
        "armed_opposition",
        name_ar="درع الفرات",
        country=SY,
        aliases=["Der' Al Furat", "Dir' al-Furat", "Euphrates Shield"],
        description="The Syrian opposition factions of Turkey's Operation Euphrates "
        "Shield north of Aleppo (August 2016 – March 2017).",
    ),
    a(
        "jaysh-usud-al-sharqiya",
        "Jaysh Usud al-Sharqiya",
        "armed_group",
        "armed_opposition",
        name_ar="جيش أسود الشرقية",
        country=SY,
        aliases=["Jaysh Asoud al-Sharqiya", "Lions of the East Army"],
        description="A Free Syrian Army group from Deir-ez-Zor, later active in the "
        "eastern Qalamoun and the southern desert.",
    ),
    a(
        "martyr-ahmed-abdou-forces",
        "Martyr Ahmed Abdou Forces",
        "armed_group",
        "armed_opposition",
        name_ar="قوات الشهيد أحمد العبدو",
        country=SY,
        aliases=["Martyr Lieutenant Ahmed Abdou Brigades"],
        description="A Free Syrian Army group in the eastern Qalamoun and the southern "
        "desert.",
    ),
    # Not Hay'at Tahrir al-Sham: UCDP's "Tahrir al- Sham Army" fights in al-Dumayr
    # (eastern Qalamoun) in 2016, before HTS existed, and UCDP names HTS "HTS".
    a(
        "jaysh-tahrir-al-sham",
        "Jaysh Tahrir al-Sham",
        "armed_group",
        "armed_opposition",
        name_ar="جيش تحرير الشام",
        country=SY,
        aliases=["Tahrir al- Sham Army"],
        description="A Free Syrian Army group in the eastern Qalamoun; not Hay'at "
        "Tahrir al-Sham.",
    ),
    a(
        "ahrar-al-sharqiya",
        "Ahrar al-Sharqiya",
        "armed_group",
        "armed_opposition",
        name_ar="أحرار الشرقية",
        country=SY,
        description="An opposition group of fighters from Deir-ez-Zor, part of the "
        "Syrian National Army.",
    ),
    a(
        "aknaf-bait-al-maqdis",
        "Aknaf Bait al-Maqdis",
        "armed_group",
        "armed_opposition",
        name_ar="أكناف بيت المقدس",
        aliases=["Aknaf Beit al-Maqdis", "Aknaf Bayt al-Maqdis"],
        description="A Palestinian Islamist armed group in Yarmouk camp, Damascus, "
        "that fought with the opposition.",
    ),
    a(
        "sons-of-yarmouk-movement",
        "Sons of Yarmouk Movement",
        "armed_group",
        "armed_opposition",
        name_ar="حركة أبناء اليرموك",
        description="An opposition group in and around Yarmouk camp, Damascus.",
    ),
    a(
        "jaysh-al-ababil",
        "Jaysh al-Ababil",
        "armed_group",
        "armed_opposition",
        name_ar="جيش الأبابيل",
        country=SY,
        aliases=["Jaysh al Ababil"],
        description="A Free Syrian Army group in southern Damascus.",
    ),
    a(
        "liwa-sham-al-rasoul",
        "Liwa Sham al-Rasoul",
        "armed_group",
        "armed_opposition",
        name_ar="لواء شام الرسول",
        country=SY,
        aliases=["Liwa Shamal Rasul"],
        description="An opposition group in southern Damascus.",
    ),
    a(
        "hamza-division",
        "Hamza Division",
        "armed_group",
        "armed_opposition",
        name_ar="فرقة الحمزة",
        country=SY,
        description="A Turkish-backed opposition group north of Aleppo, part of the "
        "Syrian National Army.",
    ),
    a(
        "sultan-murad-division",
        "Sultan Murad Division",
        "armed_group",
        "armed_opposition",
        name_ar="فرقة السلطان مراد",
        country=SY,
        aliases=["Liwa al-Sultan Murad", "Sultan Murad Brigade"],
        description="A Turkish-backed Turkmen opposition group, part of the Syrian "
        "National Army.",
    ),
    a(
        "sultan-mehmed-al-fatih-brigade",
        "Sultan Mehmed al-Fatih Brigade",
        "armed_group",
        "armed_opposition",
        name_ar="لواء السلطان محمد الفاتح",
        country=SY,
        aliases=["Al-Sultan Mohammad al-Fatih"],
        description="A Turkish-backed Turkmen opposition group, part of the Syrian "
        "National Army.",
    ),
    a(
        "first-regiment",
        "First Regiment",
        "armed_group",
        "armed_opposition",
        name_ar="الفوج الأول",
        country=SY,
        description="An opposition faction, recorded by UCDP fighting other "
        "Turkish-backed factions in al-Bab in 2017.",
    ),
    a(
        "fastaqim-union",
        "Fastaqim Union",
        "armed_group",
        "armed_opposition",
        name_ar="تجمع فاستقم كما أمرت",
        country=SY,
        aliases=["Fistaqim Kama Umirat"],
        description="An opposition group in Aleppo city.",
    ),
    a(
        "furqan-brigades",
        "Furqan Brigades",
        "armed_group",
        "armed_opposition",
        name_ar="ألوية الفرقان",
        country=SY,
        description="A Free Syrian Army group in Quneitra.",
    ),
    a(
        "humat-al-aqida",
        "Humat al-Aqida",
        "armed_group",
        "armed_opposition",
        country=SY,
        description="An opposition faction, recorded by UCDP fighting Sultan Murad in "
        "Jarabulus in 2019.",
    ),
    a(
        "jaysh-al-ashair",
        "Jaysh al-Ashair",
        "armed_group",
        "armed_opposition",
        name_ar="جيش العشائر",
        country=SY,
        aliases=["Jaysh al-Asha’er", "Jaysh al-Asha'er"],
        description="A tribal opposition group, recorded by UCDP fighting "
        "pro-government militias in Deir-ez-Zor in 2016 and the Islamic State near "
        "Rukban in 2017.",
    ),
    a(
        "tajamu-shuhada-al-sharqiya",
        "Tajamu Shuhada al-Sharqiya",
        "armed_group",
        "armed_opposition",
        name_ar="تجمع شهداء الشرقية",
        country=SY,
        description="An opposition faction, recorded by UCDP fighting other "
        "Turkish-backed factions in Afrin in 2018.",
    ),
    a(
        "al-majd-legion",
        "al-Majd Legion",
        "armed_group",
        "armed_opposition",
        name_ar="فيلق المجد",
        country=SY,
        description="A Turkish-backed opposition faction, part of the Syrian National "
        "Army.",
    ),
    a(
        "al-mutasim-brigade",
        "al-Mu'tasim Brigade",
        "armed_group",
        "armed_opposition",
        name_ar="لواء المعتصم",
        country=SY,
        aliases=["al-Moutasem Brigade", "Liwa al-Mu'tasim"],
        description="An opposition group north of Aleppo, part of the Syrian National "
        "Army.",
    ),
    a(
        "northern-hawks-brigade",
        "Northern Hawks Brigade",
        "armed_group",
        "armed_opposition",
        name_ar="لواء صقور الشمال",
        country=SY,
        description="A Turkish-backed opposition faction north of Aleppo, part of the "
        "Syrian National Army.",
    ),
    a(
        "new-syrian-army",
        "New Syrian Army",
        "armed_group",
        "armed_opposition",
        name_ar="جيش سوريا الجديد",
        country=SY,
        aliases=["NSA"],
        description="A US-backed opposition group formed in 2015 to fight the Islamic "
        "State in the east; renamed Maghawir al-Thawra in December 2016.",
    ),
    a(
        "national-coalition",
        "National Coalition for Syrian Revolutionary and Opposition Forces",
        "other",
        "armed_opposition",
        name_ar="الائتلاف الوطني لقوى الثورة والمعارضة السورية",
        country=SY,
        aliases=["Syrian National Coalition", "SNC"],
        description="The main political body of the Syrian opposition, founded in "
        "2012.",
    ),
    a(
        "authenticity-and-development-front",
        "Authenticity and Development Front",
        "armed_group",
        "armed_opposition",
        name_ar="جبهة الأصالة والتنمية",
        country=SY,
        description="A Salafist opposition coalition.",
    ),
    a(
        "ajnad-al-sham",
        "Ajnad al-Sham",
        "armed_group",
        "armed_opposition",
        name_ar="أجناد الشام",
        country=SY,
        description="An Islamist opposition group, member of the Jaysh al-Fatah "
        "coalition in Idlib in 2015.",
    ),
    a(
        "jaysh-al-sunna",
        "Jaysh al-Sunna",
        "armed_group",
        "armed_opposition",
        name_ar="جيش السنة",
        country=SY,
        description="An Islamist opposition group formed by fighters from Homs, member "
        "of the Jaysh al-Fatah coalition in Idlib in 2015.",
    ),
    a(
        "liwa-al-haq",
        "Liwa al-Haq",
        "armed_group",
        "armed_opposition",
        name_ar="لواء الحق",
        country=SY,
        aliases=["Liwa al-Haq Idlib"],
        description="An Islamist opposition group from Idlib, member of the Jaysh "
        "al-Fatah coalition in 2015.",
    ),
    a(
        "ahfad-al-rasoul-brigades",
        "Ahfad al-Rasoul Brigades",
        "armed_group",
        "armed_opposition",
        name_ar="ألوية أحفاد الرسول",
        country=SY,
        aliases=["Ahfad al Rasoul Brigade"],
        description="A Free Syrian Army coalition of the early years of the war.",
    ),
    a(
        "al-farouq-brigades",
        "al-Farouq Brigades",
        "armed_group",
        "armed_opposition",
        name_ar="كتائب الفاروق",
        country=SY,
        description="One of the first large Free Syrian Army groups, formed in Homs in "
        "2011.",
    ),
    a(
        "ghuraba-al-sham",
        "Ghuraba al-Sham",
        "armed_group",
        "armed_opposition",
        name_ar="غرباء الشام",
        country=SY,
        description="An Islamist opposition group, recorded by UCDP fighting the PYD "
        "in Ras al-Ayn in 2013.",
    ),
    a(
        "liwa-al-fateh",
        "Liwa al-Fateh",
        "armed_group",
        "armed_opposition",
        country=SY,
        description="An opposition group, recorded by UCDP fighting the PYD in Ras "
        "al-Ayn in 2013.",
    ),
    a(
        "jazeera-euphrates-liberation-front",
        "Jazeera-Euphrates Liberation Front",
        "armed_group",
        "armed_opposition",
        country=SY,
        description="An opposition coalition of the north-east, recorded by UCDP "
        "fighting the PYD in Ras al-Ayn in 2013.",
    ),
    a(
        "al-qaqa-brigade",
        "al-Qa'qa Brigade",
        "armed_group",
        "armed_opposition",
        name_ar="لواء القعقاع",
        country=SY,
        description="An opposition group, recorded by UCDP fighting the Islamic State "
        "in Deir-ez-Zor in 2014.",
    ),
    a(
        "army-of-ahl-al-sunna-wal-jamaa",
        "Army of Ahl al-Sunna wal-Jama'a",
        "armed_group",
        "armed_opposition",
        name_ar="جيش أهل السنة والجماعة",
        country=SY,
        aliases=["Army of Ahl al-Sunni wal Jamaa"],
        description="An opposition group, recorded by UCDP fighting the Islamic State "
        "in Deir-ez-Zor in 2014.",
    ),
    a(
        "army-of-al-ikhlas",
        "Army of al-Ikhlas",
        "armed_group",
        "armed_opposition",
        name_ar="جيش الإخلاص",
        country=SY,
        description="An opposition group, recorded by UCDP fighting the Islamic State "
        "in Deir-ez-Zor in 2014.",
    ),
    a(
        "army-of-mutah-al-islami",
        "Army of Mu'tah al-Islami",
        "armed_group",
        "armed_opposition",
        name_ar="جيش مؤتة الإسلامي",
        country=SY,
        aliases=["Army of Maoata al-Islami"],
        description="An opposition group, recorded by UCDP fighting the Islamic State "
        "in Deir-ez-Zor in 2014.",
    ),
    a(
        "bayareq-al-shaitat",
        "Bayareq al-Shaitat",
        "armed_group",
        "armed_opposition",
        name_ar="بيارق الشعيطات",
        country=SY,
        aliases=["Bayareq al-Shaaitat"],
        description="Fighters of the al-Shaitat tribe of Deir-ez-Zor, who fought the "
        "Islamic State in 2014.",
    ),
    a(
        "liwa-al-qadisiya",
        "Liwa al-Qadisiya",
        "armed_group",
        "armed_opposition",
        name_ar="لواء القادسية",
        country=SY,
        description="An opposition group, recorded by UCDP fighting the Islamic State "
        "in Deir-ez-Zor in 2014.",
    ),
    # --- Palestinian factions (bloc other: see the module docstring) ------------------
    a(
        "pflp-gc",
        "Popular Front for the Liberation of Palestine – General Command",
        "armed_group",
        "other",
        name_ar="الجبهة الشعبية لتحرير فلسطين – القيادة العامة",
        aliases=["PFLP-GC"],
        description="A Palestinian armed group based in Damascus, allied with the "
        "Syrian government.",
    ),
    a(
        "palestine-liberation-organization",
        "Palestine Liberation Organization",
        "armed_group",
        "other",
        name_ar="منظمة التحرير الفلسطينية",
        aliases=["PLO"],
        description="The umbrella organisation of Palestinian factions; UCDP records "
        "its fighters in the Yarmouk camp area.",
    ),
    a(
        "palestinian-islamic-jihad",
        "Palestinian Islamic Jihad",
        "armed_group",
        "other",
        name_ar="حركة الجهاد الإسلامي في فلسطين",
        aliases=["PIJ", "Islamic Jihad Movement in Palestine"],
        description="A Palestinian armed group with offices in Damascus.",
    ),
    # --- SDF --------------------------------------------------------------------------
    a(
        "syrian-democratic-forces",
        "Syrian Democratic Forces",
        "armed_group",
        "sdf",
        name_ar="قوات سوريا الديمقراطية",
        country=SY,
        aliases=["SDF", "QSD", "قسد"],
        description="The Kurdish-led alliance formed in October 2015 around the YPG, "
        "the US-led coalition's partner against the Islamic State.",
    ),
    a(
        "peoples-protection-units",
        "People's Protection Units",
        "armed_group",
        parent="syrian-democratic-forces",
        name_ar="وحدات حماية الشعب",
        country=SY,
        aliases=["YPG", "Kurdish People's Protection Units"],
        description="The Kurdish armed force of north-east Syria, the core of the SDF.",
    ),
    a(
        "womens-protection-units",
        "Women's Protection Units",
        "armed_group",
        parent="syrian-democratic-forces",
        name_ar="وحدات حماية المرأة",
        country=SY,
        aliases=["YPJ"],
        description="The women's Kurdish armed force that fights alongside the YPG.",
    ),
    a(
        "syriac-military-council",
        "Syriac Military Council",
        "armed_group",
        parent="syrian-democratic-forces",
        name_ar="المجلس العسكري السرياني",
        country=SY,
        aliases=["MFS", "Mawtbo Fulhoyo Suryoyo"],
        description="The Syriac Christian armed force of al-Hasakeh, part of the SDF.",
    ),
    a(
        "al-sanadid-forces",
        "al-Sanadid Forces",
        "armed_group",
        parent="syrian-democratic-forces",
        name_ar="قوات الصناديد",
        country=SY,
        aliases=["Jaysh al-Sanadid"],
        description="The armed force of the Shammar tribe in al-Hasakeh, part of the "
        "SDF.",
    ),
    a(
        "democratic-union-party",
        "Democratic Union Party",
        "armed_group",
        "sdf",
        name_ar="حزب الاتحاد الديمقراطي",
        country=SY,
        aliases=["PYD"],
        description="The main Kurdish party of north-east Syria, whose armed wing is "
        "the YPG; UCDP names it as a side in fighting before the SDF existed.",
    ),
    # Counted with the SDF: the PYD and YPG follow its leadership and ideology.
    a(
        "kurdistan-workers-party",
        "Kurdistan Workers' Party",
        "armed_group",
        "sdf",
        name_ar="حزب العمال الكردستاني",
        aliases=["PKK"],
        description="The Kurdish armed group at war with Turkey since 1984, the "
        "ideological parent of the PYD and the YPG.",
    ),
    a(
        "kurdish-armed-forces",
        "Kurdish armed forces (unspecified)",
        "armed_group",
        "sdf",
        aliases=["Kurdish Armed Forces"],
        description="Insecurity Insight's name for Kurdish forces it does not identify "
        "further; in Syria mostly the YPG and the SDF.",
    ),
    # --- Turkey -----------------------------------------------------------------------
    a(
        "turkish-armed-forces",
        "Turkish Armed Forces",
        "foreign_state_force",
        "turkey",
        name_ar="القوات المسلحة التركية",
        country="TR",
        aliases=[
            "Armed Forces of Turkey",
            "Government of Turkey",
            "Turkish forces",
            "Turkish army",
            "TSK",
            "الجيش التركي",
        ],
        description="Turkey's armed forces, which have intervened in northern Syria "
        "since August 2016.",
    ),
    a(
        "turkish-national-police",
        "Turkish National Police",
        "foreign_state_force",
        "turkey",
        name_ar="الشرطة التركية",
        country="TR",
        aliases=["Turkish Police Force", "Turkish police"],
        description="Turkey's police.",
    ),
    a(
        "turkish-gendarmerie",
        "Turkish Gendarmerie",
        "foreign_state_force",
        "turkey",
        name_ar="الجندرما التركية",
        country="TR",
        aliases=["Jandarma"],
        description="Turkey's gendarmerie. Syrians often call any Turkish border guard "
        '"Jandarma".',
    ),
    # --- US-led coalition -------------------------------------------------------------
    a(
        "us-led-coalition",
        "US-led coalition",
        "foreign_state_force",
        "us_led_coalition",
        name_ar="التحالف الدولي بقيادة الولايات المتحدة",
        aliases=[
            "International Coalition Forces in Syria",
            "Global Coalition against Daesh",
            "Combined Joint Task Force – Operation Inherent Resolve",
            "CJTF-OIR",
            "International coalition",
            "Coalition forces",
            "التحالف الدولي",
        ],
        description="The coalition led by the United States that has fought the "
        "Islamic State in Syria and Iraq since 2014 (Operation Inherent Resolve).",
    ),
    a(
        "united-states-armed-forces",
        "United States Armed Forces",
        "foreign_state_force",
        "us_led_coalition",
        name_ar="القوات المسلحة الأمريكية",
        country="US",
        aliases=[
            "US Military",
            "Government of United States of America",
            "US forces",
            "US Armed Forces",
            "القوات الأمريكية",
        ],
        description="The armed forces of the United States, in Syria mostly within the "
        "US-led coalition; UCDP also records US strikes on al-Qaida figures under this "
        "name.",
    ),
    # --- Other states -----------------------------------------------------------------
    a(
        "israel-defense-forces",
        "Israel Defense Forces",
        "foreign_state_force",
        "other",
        name_ar="جيش الدفاع الإسرائيلي",
        country="IL",
        aliases=[
            "Government of Israel",
            "IDF",
            "Israeli forces",
            "Israeli army",
            "الجيش الإسرائيلي",
        ],
        description="Israel's armed forces, which have struck Iranian, Hezbollah and "
        "Syrian government targets in Syria.",
    ),
    a(
        "iraqi-armed-forces",
        "Iraqi Armed Forces",
        "foreign_state_force",
        "other",
        name_ar="القوات المسلحة العراقية",
        country="IQ",
        aliases=["Government of Iraq", "Iraqi forces"],
        description="Iraq's armed forces, including their air strikes on the Islamic "
        "State in Syria.",
    ),
    a(
        "jordanian-armed-forces",
        "Jordanian Armed Forces",
        "foreign_state_force",
        "other",
        name_ar="القوات المسلحة الأردنية",
        country="JO",
        aliases=["Government of Jordan", "Jordan Armed Forces"],
        description="Jordan's armed forces.",
    ),
    a(
        "kurdistan-regional-government",
        "Kurdistan Regional Government",
        "other",
        "other",
        name_ar="حكومة إقليم كردستان",
        country="IQ",
        aliases=["KRG"],
        description="The government of Iraq's Kurdistan Region, which controls the "
        "border crossing to north-east Syria at Faysh Khabur.",
    ),
    # --- Clans and local groups -------------------------------------------------------
    a(
        "al-baggara-clan",
        "al-Baggara clan",
        "other",
        "other",
        name_ar="عشيرة البكارة",
        country=SY,
        aliases=["al-Bakkara clan"],
        description="A large Arab tribe of the Euphrates valley and Aleppo.",
    ),
    a(
        "al-sultan-clan",
        "al-Sultan clan",
        "other",
        "other",
        country=SY,
        description="A clan, recorded by UCDP fighting al-Baggara clansmen east of "
        "Aleppo in 2019.",
    ),
    a(
        "al-nasser-clan",
        "al-Nasser clan",
        "other",
        "other",
        country=SY,
        description="A clan, recorded by UCDP fighting the Wahab clan in al-Tabqa in "
        "2019.",
    ),
    a(
        "wahab-clan",
        "Wahab clan",
        "other",
        "other",
        country=SY,
        description="A clan, recorded by UCDP fighting the al-Nasser clan in al-Tabqa "
        "in 2019.",
    ),
    # Allegiance not established: counted as other, not guessed into a bloc.
    a(
        "tel-khamis-brigades",
        "Tel Khamis Brigades",
        "armed_group",
        "other",
        country=SY,
        description="A local armed group of the Tel Hamis area (al-Hasakeh), recorded "
        "by UCDP in a 2016 clash with the PKK; its allegiance is not established.",
    ),
    a(
        "qawim-movement",
        "Qawim movement",
        "armed_group",
        "other",
        country=SY,
        description="An armed group opposed to the SDF in Raqqa, recorded by UCDP in "
        "2018; its allegiance is disputed.",
    ),
    # --- Unidentified and non-military (Insecurity Insight's categories) --------------
    a(
        "unidentified",
        "Unidentified",
        "unknown",
        "unidentified",
        name_ar="جهة مجهولة",
        aliases=[
            "Unidentified Armed Actor",
            "Unidentified Armed Group (Syria)",
            "Unknown perpetrator",
            "Unidentified gunmen",
        ],
        description="A perpetrator the sources do not identify.",
    ),
    a(
        "militia-unidentified",
        "Militia (unidentified)",
        "other",
        "unidentified",
        aliases=["Militia"],
        description="An armed militia the source does not name.",
    ),
    a(
        "family",
        "Family",
        "other",
        "other",
        description="Relatives of a patient or victim.",
    ),
    a(
        "criminal",
        "Criminal",
        "other",
        "other",
        aliases=["Criminals"],
        description="Criminals with no known link to a party to the conflict.",
    ),
    a(
        "local-population",
        "Local population",
        "other",
        "other",
        aliases=["Local residents"],
        description="Local residents not organised as an armed group.",
    ),
    a(
        "health-worker",
        "Health worker",
        "other",
        "other",
        aliases=["Health workers"],
        description="A health worker, as the perpetrator of an incident.",
    ),
    a(
        "employee",
        "Employee",
        "other",
        "other",
        description="An employee of the organisation affected.",
    ),
    a(
        "refugees-idps",
        "Refugees/IDPs",
        "other",
        "other",
        description="Refugees or internally displaced people.",
    ),
    a(
        "demonstrators",
        "Demonstrators",
        "other",
        "other",
        aliases=["Protesters"],
        description="People taking part in a demonstration.",
    ),
]

# (from, kind, to, start, end, confidence, note)
RELATIONS = [
    (
        "jabhat-fateh-al-sham",
        "successor_of",
        "jabhat-al-nusra",
        dt.date(2016, 7, 28),
        None,
        "confirmed",
        "Jabhat al-Nusra renamed itself and announced its split from al-Qaida.",
    ),
    (
        "hayat-tahrir-al-sham",
        "successor_of",
        "jabhat-fateh-al-sham",
        dt.date(2017, 1, 28),
        None,
        "confirmed",
        "Formed by Jabhat Fateh al-Sham's merger with smaller groups (among them the "
        "Nour al-Din al-Zenki Movement, Liwa al-Haq and Jaysh al-Sunna).",
    ),
    (
        "khalid-ibn-al-walid-army",
        "successor_of",
        "yarmouk-martyrs-brigade",
        None,
        None,
        "confirmed",
        "Formed in 2016 by the merger of the Yarmouk Martyrs Brigade with other groups "
        "of the Yarmouk Basin.",
    ),
    (
        "syrian-salvation-government",
        "supported_by",
        "hayat-tahrir-al-sham",
        None,
        None,
        "likely",
        "Set up in Idlib in November 2017 under HTS's protection.",
    ),
    (
        "25th-special-mission-forces-division",
        "supported_by",
        "russian-armed-forces",
        dt.date(2015, 9, 30),
        None,
        "confirmed",
        "The Tiger Forces fought with Russian air support and advisers.",
    ),
    (
        "hezbollah",
        "supported_by",
        "islamic-revolutionary-guard-corps",
        None,
        None,
        "confirmed",
        "",
    ),
    (
        "fatemiyoun-division",
        "supported_by",
        "islamic-revolutionary-guard-corps",
        None,
        None,
        "confirmed",
        "Recruited, trained and commanded by the IRGC.",
    ),
    (
        "zainebiyoun-brigade",
        "supported_by",
        "islamic-revolutionary-guard-corps",
        None,
        None,
        "confirmed",
        "Recruited, trained and commanded by the IRGC.",
    ),
    (
        "euphrates-shield-factions",
        "supported_by",
        "turkish-armed-forces",
        dt.date(2016, 8, 24),
        dt.date(2017, 3, 29),
        "confirmed",
        "Operation Euphrates Shield.",
    ),
    (
        "syrian-national-army",
        "supported_by",
        "turkish-armed-forces",
        None,
        None,
        "confirmed",
        "",
    ),
    (
        "syrian-democratic-forces",
        "supported_by",
        "us-led-coalition",
        dt.date(2015, 10, 10),
        None,
        "confirmed",
        "",
    ),
    (
        "new-syrian-army",
        "supported_by",
        "us-led-coalition",
        None,
        None,
        "confirmed",
        "",
    ),
    (
        "national-defence-forces",
        "allied_with",
        "syrian-arab-armed-forces",
        None,
        None,
        "confirmed",
        "",
    ),
]


def _language(name):
    return "ar" if any("\u0600" <= ch <= "\u06ff" for ch in name) else "en"


def load_actors(apps, schema_editor):
    Actor = apps.get_model("incidents", "Actor")
    ActorName = apps.get_model("incidents", "ActorName")
    ActorRelation = apps.get_model("incidents", "ActorRelation")

    by_slug = {}
    for row in ACTORS:
        parent = by_slug[row["parent"]] if row["parent"] else None
        bloc = row["bloc"] or parent.bloc
        actor, _ = Actor.objects.update_or_create(
            slug=row["slug"],
            defaults={
                "name": row["name"],
                "name_ar": row["name_ar"],
                "kind": row["kind"],
                "bloc": bloc,
                "parent": parent,
                "country": row["country"],
                "description": row["description"],
            },
        )
        by_slug[row["slug"]] = actor
        seen = set()
        for name in [row["name"], row["name_ar"], *row["aliases"]]:
            name = " ".join(name.split())
            normalized = normalize_name(name)
            if not normalized or normalized in seen:
                continue
            seen.add(normalized)
            ActorName.objects.get_or_create(
                actor=actor,
                normalized=normalized,
                defaults={"name": name, "language": _language(name)},
            )

    for from_slug, kind, to_slug, start, end, confidence, note in RELATIONS:
        ActorRelation.objects.update_or_create(
            from_actor=by_slug[from_slug],
            to_actor=by_slug[to_slug],
            kind=kind,
            defaults={
                "start_date": start,
                "end_date": end,
                "confidence": confidence,
                "note": note,
            },
        )


def unload_actors(apps, schema_editor):
    Actor = apps.get_model("incidents", "Actor")
    ActorRelation = apps.get_model("incidents", "ActorRelation")
    slugs = [row["slug"] for row in ACTORS]
    for from_slug, kind, to_slug, *_ in RELATIONS:
        ActorRelation.objects.filter(
            from_actor__slug=from_slug, to_actor__slug=to_slug, kind=kind
        ).delete()
    # Children first (parent is PROTECT); names go with their actor (CASCADE).
    for slug in reversed(slugs):
        Actor.objects.filter(slug=slug).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0005_roles"),
    ]

    operations = [
        migrations.RunPython(load_actors, unload_actors),
    ]
