"""PostgreSQL extensions and the IMMUTABLE Arabic normaliser used by the search column.

civtrack_ar_normalize(text): lower-case; drops tashkeel (U+064B–U+065F, U+0670) and
tatweel (U+0640); unifies alef forms (أ إ آ ٱ → ا), alef maqsura (ى → ي) and ta marbuta
(ة → ه); strips the article ال with a leading و/ب/ك/ف. STACK.md measured this raising
same-word matches from 70 to 96 of 100 variant pairs with the `arabic` configuration.
"""

from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations

CREATE_FUNCTION = r"""
CREATE OR REPLACE FUNCTION civtrack_ar_normalize(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT regexp_replace(
    translate(
      regexp_replace(lower(value), '[ً-ٰٟـ]', '', 'g'),
      'أإآٱىة', 'اااايه'
    ),
    '(^|[[:space:]])[وبكف]?ال', '\1', 'g'
  )
$$;
"""

DROP_FUNCTION = "DROP FUNCTION IF EXISTS civtrack_ar_normalize(text);"


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        TrigramExtension(),
        UnaccentExtension(),
        migrations.RunSQL(CREATE_FUNCTION, DROP_FUNCTION),
    ]
