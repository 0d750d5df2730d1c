"""The starting reference vocabularies (DOMAIN.md "Reference vocabularies").

Incident, weapon and target types with their hierarchy, English and Arabic labels and
definitions written for journalists, and, for incident types, the ACLED sub_event_type
values and the UCDP type_of_violence that map onto them (IMPORTS.md). The rows stay
editable in the admin; codes are stable identifiers and are never renamed here.

Reversing deletes the rows by code; it fails (PROTECT) once an incident uses one.
"""

from django.db import migrations


def t(code, label, label_ar, definition, definition_ar, parent=None, **extra):
    return {
        "code": code,
        "parent": parent,
        "label": label,
        "label_ar": label_ar,
        "definition": definition,
        "definition_ar": definition_ar,
        **extra,
    }


INCIDENT_TYPES = [
    t(
        "airstrike",
        "Airstrike",
        "غارة جوية",
        "An attack from the air by a plane, helicopter or drone dropping bombs or "
        "firing missiles at a target on the ground. Use a more specific type when the "
        "aircraft is known.",
        "هجوم من الجو تنفذه طائرة حربية أو مروحية أو مسيّرة بإلقاء القنابل أو إطلاق "
        "الصواريخ على هدف على الأرض. يُستخدم نوع أدق عندما يكون نوع الطائرة معروفاً.",
        acled_sub_event_type="Air/drone strike",
    ),
    t(
        "airstrike-fixed-wing",
        "Airstrike by a warplane",
        "غارة بطائرة حربية",
        "An airstrike by a fixed-wing warplane (jet or propeller aircraft), not by a "
        "helicopter or a drone.",
        "غارة جوية تنفذها طائرة حربية ثابتة الجناح (نفاثة أو ذات محركات مروحية)، "
        "وليس طائرة هليكوبتر أو طائرة مسيّرة.",
        parent="airstrike",
    ),
    t(
        "airstrike-helicopter",
        "Helicopter attack",
        "هجوم بطائرة مروحية",
        "An airstrike by a helicopter, including barrel bombs dropped from "
        "helicopters.",
        "غارة جوية تنفذها طائرة مروحية (هليكوبتر)، بما في ذلك البراميل المتفجرة التي "
        "تُلقى منها.",
        parent="airstrike",
    ),
    t(
        "drone-strike",
        "Drone strike",
        "ضربة بطائرة مسيّرة",
        "An attack by an unmanned aircraft, either dropping or firing munitions or "
        "crashing into its target as a loitering munition ('kamikaze drone').",
        "هجوم تنفذه طائرة من دون طيار، إما بإلقاء الذخائر أو إطلاقها، أو بالارتطام "
        "بالهدف بوصفها ذخيرة جوّالة («مسيّرة انتحارية»).",
        parent="airstrike",
    ),
    t(
        "shelling",
        "Shelling (artillery, rocket or missile)",
        "قصف مدفعي أو صاروخي",
        "An attack with weapons fired from the ground at a distance: artillery, "
        "mortars, rockets or surface-to-surface missiles.",
        "هجوم بأسلحة تُطلق من الأرض عن بُعد: المدفعية أو الهاون أو القذائف الصاروخية "
        "أو الصواريخ أرض-أرض.",
        acled_sub_event_type="Shelling/artillery/missile attack",
    ),
    t(
        "chemical-attack",
        "Chemical attack",
        "هجوم كيميائي",
        "The use of a toxic chemical as a weapon, such as a nerve agent (sarin) or "
        "chlorine, whatever delivered it.",
        "استخدام مادة كيميائية سامة سلاحاً، مثل غاز أعصاب (السارين) أو الكلور، أيّاً "
        "كانت وسيلة إطلاقها.",
        acled_sub_event_type="Chemical weapon",
    ),
    t(
        "ied-or-landmine",
        "IED or landmine",
        "عبوة ناسفة أو لغم أرضي",
        "An explosion of an improvised explosive device or a landmine, set off by the "
        "victim, by a timer or by remote control, with the attacker not present.",
        "انفجار عبوة ناسفة مرتجلة أو لغم أرضي، بفعل الضحية أو بمؤقت أو بالتحكم عن "
        "بُعد، من دون وجود المهاجم في المكان.",
        acled_sub_event_type="Remote explosive/landmine/IED",
    ),
    t(
        "suicide-or-vehicle-bomb",
        "Suicide or vehicle bomb",
        "تفجير انتحاري أو سيارة مفخخة",
        "An explosion set off by an attacker who dies in it, or of explosives packed "
        "into a car, truck or motorbike (a car bomb).",
        "انفجار يفجّره مهاجم يُقتل فيه، أو انفجار متفجرات محمّلة في سيارة أو شاحنة أو "
        "دراجة نارية (سيارة مفخخة).",
        acled_sub_event_type="Suicide bomb",
    ),
    t(
        "ground-attack",
        "Ground attack",
        "هجوم بري",
        "An assault by forces on the ground on a town, village, building or position "
        "where civilians are, such as a raid or the storming of a village.",
        "هجوم تنفذه قوات برية على بلدة أو قرية أو مبنى أو موقع يوجد فيه مدنيون، مثل "
        "المداهمة أو اقتحام قرية.",
    ),
    t(
        "shooting",
        "Shooting",
        "إطلاق نار",
        "Civilians shot with firearms, including sniper fire, or attacked with hand "
        "grenades, outside the fighting of an armed clash.",
        "إطلاق النار على مدنيين بأسلحة نارية، بما فيها نيران القنص، أو مهاجمتهم بقنابل "
        "يدوية، خارج القتال في اشتباك مسلح.",
        acled_sub_event_type="Grenade;Excessive force against protesters",
    ),
    t(
        "field-execution",
        "Field execution",
        "إعدام ميداني",
        "The deliberate killing of a person in the attackers' power, such as a "
        "captured civilian or fighter, without a fair trial.",
        "القتل المتعمد لشخص واقع في قبضة المهاجمين، كمدني أو مقاتل أسير، من دون محاكمة "
        "عادلة.",
    ),
    t(
        "abduction-or-disappearance",
        "Abduction or enforced disappearance",
        "اختطاف أو إخفاء قسري",
        "A person seized by an armed group or the authorities whose fate or "
        "whereabouts are concealed, or who is held for ransom or exchange.",
        "احتجاز شخص على يد جماعة مسلحة أو سلطة ما مع إخفاء مصيره أو مكان وجوده، أو "
        "احتجازه طلباً لفدية أو لمبادلته.",
        acled_sub_event_type="Abduction/forced disappearance",
    ),
    t(
        "arbitrary-detention",
        "Arbitrary arrest or detention",
        "اعتقال تعسفي",
        "An arrest or detention without legal basis or due process, for example at a "
        "checkpoint or in a raid, while the person's whereabouts are known.",
        "توقيف أو احتجاز من دون أساس قانوني أو إجراءات قانونية واجبة، كما عند حاجز أو "
        "في مداهمة، مع معرفة مكان وجود الشخص.",
        acled_sub_event_type="Arrests",
    ),
    t(
        "torture-or-death-in-detention",
        "Torture or death in detention",
        "تعذيب أو وفاة في الاحتجاز",
        "Severe pain or suffering inflicted on a detainee, or a detainee's death in "
        "custody from torture, neglect or the denial of medical care.",
        "إلحاق ألم أو معاناة شديدين بمحتجز، أو وفاة محتجز في أثناء احتجازه بسبب "
        "التعذيب أو الإهمال أو الحرمان من الرعاية الطبية.",
    ),
    t(
        "sexual-violence",
        "Sexual violence",
        "عنف جنسي",
        "Rape or any other act of a sexual nature committed by force or coercion, "
        "against women, men or children.",
        "الاغتصاب أو أي فعل آخر ذي طابع جنسي يُرتكب بالقوة أو الإكراه، ضد النساء أو "
        "الرجال أو الأطفال.",
        acled_sub_event_type="Sexual violence",
    ),
    t(
        "siege",
        "Siege",
        "حصار",
        "An encirclement that cuts civilians off from food, medicine, fuel or escape, "
        "used as a method of warfare. Deaths from hunger or lack of care under siege "
        "are recorded here.",
        "تطويق منطقة يقطع عن المدنيين الغذاء أو الدواء أو الوقود أو سبل الخروج، "
        "ويُستخدم أسلوباً من أساليب الحرب. تُسجَّل هنا الوفيات الناجمة عن الجوع أو "
        "نقص الرعاية تحت الحصار.",
    ),
    t(
        "forced-displacement",
        "Forced displacement",
        "تهجير قسري",
        "Civilians made to leave their homes or area by threats, attacks or agreements "
        "imposed on them, not by their own free choice.",
        "إجبار المدنيين على مغادرة منازلهم أو مناطقهم بالتهديد أو الهجمات أو باتفاقات "
        "مفروضة عليهم، لا باختيارهم الحر.",
    ),
    t(
        "looting-or-destruction",
        "Looting or destruction of property",
        "نهب الممتلكات أو تدميرها",
        "The theft, seizure, burning or demolition of civilian property or supplies, "
        "other than by an explosive attack.",
        "سرقة الممتلكات أو الإمدادات المدنية أو الاستيلاء عليها أو حرقها أو هدمها، "
        "بغير هجوم بالمتفجرات.",
        acled_sub_event_type="Looting/property destruction",
    ),
    t(
        "attack-on-aid-convoy",
        "Attack on an aid convoy",
        "هجوم على قافلة مساعدات",
        "An attack on vehicles carrying humanitarian aid or aid workers, or their "
        "obstruction by force.",
        "هجوم على مركبات تنقل مساعدات إنسانية أو عاملين في المجال الإنساني، أو "
        "اعتراضها بالقوة.",
    ),
    t(
        "militarization-of-civilian-object",
        "Military use of a civilian object",
        "الاستخدام العسكري لمنشأة مدنية",
        "The occupation of a hospital, school or other civilian building by armed "
        "forces, or its use for military purposes such as a base, firing position or "
        "checkpoint.",
        "احتلال قوات مسلحة لمستشفى أو مدرسة أو أي مبنى مدني آخر، أو استخدامه لأغراض "
        "عسكرية كقاعدة أو موقع لإطلاق النار أو حاجز.",
    ),
    t(
        "armed-clash",
        "Armed clash",
        "اشتباك مسلح",
        "Fighting between two or more armed parties. Used for imported conflict data "
        "(UCDP battles, ACLED battles) that does not say which side caused the deaths.",
        "قتال بين طرفين مسلحين أو أكثر. يُستخدم لبيانات النزاع المستوردة (معارك UCDP "
        "ومعارك ACLED) التي لا تحدد الطرف المسؤول عن الوفيات.",
        acled_sub_event_type=(
            "Armed clash;Government regains territory;"
            "Non-state actor overtakes territory"
        ),
        ucdp_type_of_violence=1,
    ),
    t(
        "violence-against-civilians",
        "Violence against civilians (means not recorded)",
        "عنف ضد المدنيين (الوسيلة غير مسجلة)",
        "A deliberate attack on civilians by an armed group or government whose means "
        "is not recorded. Used for imported one-sided violence data (UCDP).",
        "هجوم متعمد على مدنيين تنفذه جماعة مسلحة أو حكومة من دون تسجيل وسيلته. يُستخدم "
        "لبيانات العنف من طرف واحد المستوردة (UCDP).",
        acled_sub_event_type="Attack",
        ucdp_type_of_violence=3,
    ),
    t(
        "other",
        "Other",
        "أخرى",
        "An attack on civilians that fits none of the other types; the summary says "
        "what happened.",
        "هجوم على مدنيين لا ينطبق عليه أي من الأنواع الأخرى؛ ويوضح الملخص ما حدث.",
    ),
]

WEAPON_TYPES = [
    t(
        "explosive",
        "Explosive weapon",
        "سلاح متفجر",
        "A weapon that kills and destroys by blast and fragments. Use a more specific "
        "type when the munition is known.",
        "سلاح يقتل ويدمّر بالعصف والشظايا. يُستخدم نوع أدق عندما تكون الذخيرة معروفة.",
    ),
    t(
        "barrel-bomb",
        "Barrel bomb",
        "برميل متفجر",
        "An improvised, unguided bomb: a container such as an oil drum, gas cylinder "
        "or water tank filled with explosives and scrap metal, dropped from a "
        "helicopter or plane.",
        "قنبلة مرتجلة غير موجّهة: وعاء كبرميل نفط أو أسطوانة غاز أو خزان مياه محشو "
        "بالمتفجرات والخردة المعدنية، يُلقى من طائرة مروحية أو حربية.",
        parent="explosive",
    ),
    t(
        "unguided-bomb",
        "Unguided aerial bomb",
        "قنبلة جوية غير موجّهة",
        "A factory-made bomb dropped from an aircraft that falls freely, with no "
        "guidance system (a 'dumb bomb').",
        "قنبلة مصنّعة تُلقى من طائرة وتسقط سقوطاً حراً من دون نظام توجيه («قنبلة غبية»).",
        parent="explosive",
    ),
    t(
        "guided-bomb",
        "Guided bomb",
        "قنبلة موجّهة",
        "A bomb dropped from an aircraft that steers itself onto its target by laser, "
        "satellite (GPS) or camera guidance.",
        "قنبلة تُلقى من طائرة وتوجّه نفسها نحو هدفها بالليزر أو بالأقمار الصناعية "
        "(GPS) أو بالكاميرا.",
        parent="explosive",
    ),
    t(
        "cluster-munition",
        "Cluster munition",
        "ذخيرة عنقودية",
        "A bomb, rocket or shell that opens in the air and scatters dozens or hundreds "
        "of small submunitions over a wide area; many fail to explode and stay "
        "dangerous for years.",
        "قنبلة أو صاروخ أو قذيفة تنفتح في الجو وتنثر عشرات أو مئات الذخائر الصغيرة على "
        "مساحة واسعة؛ كثير منها لا ينفجر ويبقى خطراً لسنوات.",
        parent="explosive",
    ),
    t(
        "thermobaric",
        "Thermobaric weapon",
        "سلاح حراري ضغطي (فراغي)",
        "A weapon that disperses a cloud of fuel and ignites it, causing a long, "
        "intense blast and heat that are especially deadly inside buildings and "
        "shelters (also called a vacuum bomb).",
        "سلاح ينشر سحابة من الوقود ثم يشعلها، فيُحدث عصفاً وحرارة شديدين وطويلين "
        "يكونان فتّاكين خصوصاً داخل المباني والملاجئ (ويُسمّى القنبلة الفراغية).",
        parent="explosive",
    ),
    t(
        "incendiary",
        "Incendiary weapon",
        "سلاح حارق",
        "A weapon designed to set fire to objects or to burn people, with the flame "
        "and heat of a chemical reaction.",
        "سلاح مصمم لإشعال النار في الأشياء أو لحرق الأشخاص، باللهب والحرارة الناتجين "
        "عن تفاعل كيميائي.",
        parent="explosive",
    ),
    t(
        "white-phosphorus",
        "White phosphorus",
        "الفوسفور الأبيض",
        "A substance that catches fire on contact with air and burns at a very high "
        "temperature, deep into flesh; used for smoke screens and as an incendiary.",
        "مادة تشتعل عند ملامستها الهواء وتحترق بحرارة عالية جداً وتتغلغل في الجسم؛ "
        "تُستخدم لإطلاق ستائر دخانية وسلاحاً حارقاً.",
        parent="incendiary",
    ),
    t(
        "incendiary-submunitions",
        "Incendiary submunitions",
        "ذخائر صغيرة حارقة",
        "Small incendiary bomblets scattered by a cluster munition, such as the "
        "ZAB-2.5 thermite submunitions of RBK cluster bombs, starting many fires at "
        "once.",
        "قنيبلات حارقة صغيرة تنثرها ذخيرة عنقودية، مثل ذخائر الثرمايت ZAB-2.5 في "
        "القنابل العنقودية RBK، فتُشعل حرائق كثيرة في وقت واحد.",
        parent="incendiary",
    ),
    t(
        "rocket",
        "Rocket",
        "قذيفة صاروخية",
        "An unguided, self-propelled projectile, often fired in salvos from multiple "
        "launchers such as the Grad, or improvised (such as 'elephant' rockets).",
        "مقذوف ذاتي الدفع غير موجّه، يُطلق غالباً رشقات من راجمات مثل «غراد»، أو يكون "
        "مرتجلاً (مثل صواريخ «الفيل»).",
        parent="explosive",
    ),
    t(
        "missile",
        "Missile",
        "صاروخ موجّه",
        "A guided, self-propelled weapon fired from the ground, the air or the sea, "
        "such as a ballistic or cruise missile or an anti-tank guided missile.",
        "سلاح ذاتي الدفع موجّه يُطلق من البر أو الجو أو البحر، مثل الصواريخ البالستية "
        "أو الجوالة (كروز) أو الصواريخ الموجّهة المضادة للدروع.",
        parent="explosive",
    ),
    t(
        "artillery",
        "Artillery shell",
        "قذيفة مدفعية",
        "A shell fired by a gun or howitzer, usually from several kilometres away.",
        "قذيفة يطلقها مدفع ميدان أو مدفع هاوتزر، عادةً من مسافة عدة كيلومترات.",
        parent="explosive",
    ),
    t(
        "mortar",
        "Mortar",
        "قذيفة هاون",
        "A bomb fired at a steep angle from a short tube at short range, including "
        "improvised mortars (such as the 'hell cannon').",
        "قذيفة تُطلق بزاوية عالية من أنبوب قصير على مدى قصير، بما فيها مدافع الهاون "
        "المرتجلة (مثل «مدفع جهنم»).",
        parent="explosive",
    ),
    t(
        "ied",
        "Improvised explosive device (IED)",
        "عبوة ناسفة مرتجلة",
        "A home-made bomb placed by an attacker and set off by the victim, a timer or "
        "remote control.",
        "قنبلة مصنوعة يدوياً يضعها المهاجم وتنفجر بفعل الضحية أو بمؤقت أو بالتحكم عن "
        "بُعد.",
        parent="explosive",
    ),
    t(
        "vbied",
        "Vehicle bomb (VBIED)",
        "سيارة مفخخة",
        "An improvised explosive device packed into a car, truck or motorbike and set "
        "off by its driver (a suicide attack) or remotely.",
        "عبوة ناسفة مرتجلة محمّلة في سيارة أو شاحنة أو دراجة نارية، يفجّرها سائقها "
        "(هجوم انتحاري) أو تُفجَّر عن بُعد.",
        parent="explosive",
    ),
    t(
        "landmine",
        "Landmine",
        "لغم أرضي",
        "An explosive device placed on or under the ground, designed to explode when a "
        "person or vehicle passes over or near it.",
        "عبوة متفجرة توضع على سطح الأرض أو تحته، مصممة لتنفجر عندما يمر شخص أو مركبة "
        "فوقها أو بقربها.",
        parent="explosive",
    ),
    t(
        "uxo",
        "Unexploded ordnance",
        "ذخائر غير منفجرة",
        "A bomb, shell, submunition or other munition that did not explode when used "
        "and later killed or injured someone, often children or farmers.",
        "قنبلة أو قذيفة أو ذخيرة صغيرة أو غيرها لم تنفجر عند استخدامها ثم قتلت أو "
        "أصابت أحداً لاحقاً، وغالباً ما يكون الضحايا أطفالاً أو مزارعين.",
        parent="explosive",
    ),
    t(
        "chemical",
        "Chemical weapon",
        "سلاح كيميائي",
        "A toxic chemical used to kill or injure through its poisonous effect, with "
        "the munition that delivers it.",
        "مادة كيميائية سامة تُستخدم للقتل أو الإصابة بفعل سمّيتها، مع الذخيرة التي "
        "تحملها.",
    ),
    t(
        "sarin",
        "Sarin",
        "السارين",
        "A nerve agent that, even in small amounts, causes pinpoint pupils, "
        "convulsions and death by respiratory failure within minutes.",
        "غاز أعصاب يسبب، ولو بكميات صغيرة، تضيّق حدقتَي العينين والتشنجات والموت "
        "بتوقف التنفس خلال دقائق.",
        parent="chemical",
    ),
    t(
        "chlorine",
        "Chlorine",
        "الكلور",
        "An industrial gas, heavier than air, that sinks into basements and shelters "
        "and damages the lungs; in Syria often dropped in gas cylinders.",
        "غاز صناعي أثقل من الهواء ينزل إلى الأقبية والملاجئ ويتلف الرئتين؛ وكثيراً ما "
        "أُلقي في سوريا داخل أسطوانات غاز.",
        parent="chemical",
    ),
    t(
        "unknown-agent",
        "Unknown chemical agent",
        "مادة كيميائية غير معروفة",
        "A chemical weapon whose toxic agent has not been identified.",
        "سلاح كيميائي لم تُحدَّد المادة السامة المستخدمة فيه.",
        parent="chemical",
    ),
    t(
        "firearms",
        "Firearms",
        "أسلحة نارية",
        "Guns that fire bullets, from pistols and rifles to heavy machine guns.",
        "أسلحة تطلق الرصاص، من المسدسات والبنادق إلى الرشاشات الثقيلة.",
    ),
    t(
        "small-arms",
        "Small arms",
        "أسلحة خفيفة",
        "Pistols, rifles and machine guns carried and used by one person or a small "
        "crew.",
        "المسدسات والبنادق والرشاشات التي يحملها ويستخدمها فرد واحد أو طاقم صغير.",
        parent="firearms",
    ),
    t(
        "sniper",
        "Sniper fire",
        "نيران قنص",
        "Aimed fire at a single person from a concealed position, usually at long "
        "range.",
        "إطلاق نار مصوَّب نحو شخص بعينه من موقع مخفي، عادةً من مسافة بعيدة.",
        parent="firearms",
    ),
    t(
        "bladed",
        "Bladed weapon",
        "سلاح أبيض",
        "A knife, sword or other weapon that cuts or stabs.",
        "سكين أو سيف أو أي سلاح آخر يُستخدم للقطع أو الطعن.",
    ),
    t(
        "arson",
        "Arson",
        "إضرام النار",
        "Deliberately setting fire to a building, crops, a vehicle or other property, "
        "without an incendiary munition.",
        "إضرام النار عمداً في مبنى أو محاصيل أو مركبة أو ممتلكات أخرى، من دون ذخيرة "
        "حارقة.",
    ),
    t(
        "unknown",
        "Unknown weapon",
        "سلاح غير معروف",
        "The weapon used is not known.",
        "السلاح المستخدم غير معروف.",
    ),
]

TARGET_TYPES = [
    t(
        "health-facility",
        "Health facility",
        "منشأة صحية",
        "A place where medical care is given. Use a more specific type when known.",
        "مكان تُقدَّم فيه الرعاية الطبية. يُستخدم نوع أدق عندما يكون معروفاً.",
    ),
    t(
        "hospital",
        "Hospital",
        "مستشفى",
        "A health facility with beds for in-patients, including field hospitals and "
        "hospitals built underground or in caves.",
        "منشأة صحية فيها أسرّة لإقامة المرضى، بما فيها المستشفيات الميدانية "
        "والمستشفيات المبنية تحت الأرض أو في الكهوف.",
        parent="health-facility",
    ),
    t(
        "clinic",
        "Clinic or health centre",
        "عيادة أو مركز صحي",
        "A health facility without in-patient beds, such as a primary health care "
        "centre, a dispensary or a mobile clinic.",
        "منشأة صحية بلا أسرّة لإقامة المرضى، مثل مركز رعاية صحية أولية أو مستوصف أو "
        "عيادة متنقلة.",
        parent="health-facility",
    ),
    t(
        "pharmacy",
        "Pharmacy",
        "صيدلية",
        "A shop or depot that dispenses or stores medicines.",
        "محل أو مستودع يصرف الأدوية أو يخزّنها.",
        parent="health-facility",
    ),
    t(
        "ambulance",
        "Ambulance",
        "سيارة إسعاف",
        "A vehicle carrying the wounded or sick, or medical staff at work.",
        "مركبة تنقل الجرحى أو المرضى، أو الطواقم الطبية في أثناء عملها.",
    ),
    t(
        "bakery",
        "Bakery",
        "فرن (مخبز)",
        "A bakery or bread distribution point, where people queue for bread.",
        "مخبز أو نقطة لتوزيع الخبز يصطف الناس فيها للحصول عليه.",
    ),
    t(
        "market",
        "Market",
        "سوق",
        "A market, shop or busy commercial street.",
        "سوق أو متجر أو شارع تجاري مزدحم.",
    ),
    t(
        "school",
        "School",
        "مدرسة",
        "A school or kindergarten, including temporary learning spaces.",
        "مدرسة أو روضة أطفال، بما فيها أماكن التعليم المؤقتة.",
    ),
    t(
        "university",
        "University",
        "جامعة",
        "A university, institute or other place of higher education.",
        "جامعة أو معهد أو أي مكان آخر للتعليم العالي.",
    ),
    t(
        "place-of-worship",
        "Place of worship",
        "دار عبادة",
        "A mosque, church, shrine or other religious building.",
        "مسجد أو كنيسة أو مقام أو أي مبنى ديني آخر.",
    ),
    t(
        "idp-camp",
        "Camp for displaced people",
        "مخيم للنازحين",
        "A camp or collective shelter where internally displaced people or refugees "
        "live.",
        "مخيم أو مركز إيواء جماعي يسكنه نازحون داخلياً أو لاجئون.",
    ),
    t(
        "aid-convoy",
        "Aid convoy",
        "قافلة مساعدات",
        "Vehicles carrying humanitarian aid or aid workers.",
        "مركبات تنقل مساعدات إنسانية أو عاملين في المجال الإنساني.",
    ),
    t(
        "un-premises",
        "UN premises",
        "مقر للأمم المتحدة",
        "An office, warehouse or other building used by a United Nations agency.",
        "مكتب أو مستودع أو مبنى آخر تستخدمه إحدى وكالات الأمم المتحدة.",
    ),
    t(
        "civil-defence-centre",
        "Civil defence centre",
        "مركز للدفاع المدني",
        "A base of rescue workers, such as a Syria Civil Defence (White Helmets) "
        "centre, with its vehicles and equipment.",
        "مقر لفرق الإنقاذ، مثل مراكز الدفاع المدني السوري (الخوذ البيضاء)، مع آلياته "
        "ومعداته.",
    ),
    t(
        "water-facility",
        "Water facility",
        "منشأة مياه",
        "A water station, pumping station, well, treatment plant or pipeline.",
        "محطة مياه أو محطة ضخ أو بئر أو محطة معالجة أو خط أنابيب.",
    ),
    t(
        "power-facility",
        "Power facility",
        "منشأة طاقة",
        "A power station, transformer, power line or fuel facility that serves "
        "civilians.",
        "محطة توليد كهرباء أو محولة أو خط كهرباء أو منشأة وقود تخدم المدنيين.",
    ),
    t(
        "residential",
        "Residential area",
        "منطقة سكنية",
        "Homes and residential buildings, and the streets between them.",
        "المنازل والمباني السكنية والشوارع بينها.",
    ),
    t(
        "road-or-bridge",
        "Road or bridge",
        "طريق أو جسر",
        "A road, bridge, roundabout or crossing.",
        "طريق أو جسر أو دوّار أو معبر.",
    ),
    t(
        "farmland",
        "Farmland",
        "أرض زراعية",
        "Fields, orchards, crops, livestock or farm buildings.",
        "حقول أو بساتين أو محاصيل أو مواشٍ أو مبانٍ زراعية.",
    ),
    t(
        "cultural-heritage",
        "Cultural heritage",
        "تراث ثقافي",
        "An archaeological site, historic monument, museum or other cultural property.",
        "موقع أثري أو معلم تاريخي أو متحف أو غير ذلك من الممتلكات الثقافية.",
    ),
    t(
        "government-building",
        "Government or administrative building",
        "مبنى حكومي أو إداري",
        "A civilian building of the authority in control, such as a ministry, town "
        "hall, court or police station.",
        "مبنى مدني تابع للسلطة المسيطرة، مثل وزارة أو بلدية أو محكمة أو مركز شرطة.",
    ),
    t(
        "military-object",
        "Military objective",
        "هدف عسكري",
        "A base, position, weapons depot or fighters, recorded when an attack on it "
        "harmed civilians.",
        "قاعدة أو موقع عسكري أو مستودع أسلحة أو مقاتلون، يُسجَّل عندما يلحق الهجوم "
        "عليه الأذى بالمدنيين.",
    ),
    t(
        "vehicle",
        "Civilian vehicle",
        "مركبة مدنية",
        "A civilian car, bus, truck or motorbike, other than an ambulance or an aid "
        "convoy.",
        "سيارة أو حافلة أو شاحنة أو دراجة نارية مدنية، غير سيارات الإسعاف وقوافل "
        "المساعدات.",
    ),
    t(
        "other",
        "Other",
        "أخرى",
        "A target that fits none of the other types; the summary says what it was.",
        "هدف لا ينطبق عليه أي من الأنواع الأخرى؛ ويوضح الملخص ما هو.",
    ),
    t(
        "unknown",
        "Unknown",
        "غير معروف",
        "What was hit is not known.",
        "ما أُصيب غير معروف.",
    ),
]

VOCABULARIES = {
    "IncidentType": INCIDENT_TYPES,
    "WeaponType": WEAPON_TYPES,
    "TargetType": TARGET_TYPES,
}


def load_vocabularies(apps, schema_editor):
    for model_name, rows in VOCABULARIES.items():
        model = apps.get_model("incidents", model_name)
        by_code = {}
        # Parents are listed before their children.
        for position, row in enumerate(rows, start=1):
            values = dict(row)
            code = values.pop("code")
            parent = values.pop("parent")
            values["parent"] = by_code[parent] if parent else None
            values["sort_order"] = position * 10
            values["active"] = True
            by_code[code], _ = model.objects.update_or_create(
                code=code, defaults=values
            )


def unload_vocabularies(apps, schema_editor):
    for model_name, rows in VOCABULARIES.items():
        model = apps.get_model("incidents", model_name)
        # Children first: parent is PROTECT.
        for row in reversed(rows):
            model.objects.filter(code=row["code"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0002_domain_model"),
    ]

    operations = [
        migrations.RunPython(load_vocabularies, unload_vocabularies),
    ]
