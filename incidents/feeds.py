"""The Atom feed of recent public changes (PAGES.md "Changes": `/changes/feed/`).

`PublicChangesFeed` is a Django syndication feed over `selectors.public_changes()`: the
same rows as the API's changes feed, newest first. Titles come from the public view only:
a change to an incident that is no longer published shows its code and action, never its
title (a withdrawn incident answers with its code and reason only).
"""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.db.models import Max
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from incidents import selectors
from incidents.models import PublicChange

FEED_LENGTH = 50


def _page(name: str, fallback: str, **kwargs) -> str:
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return fallback


class PlainTextAtomFeed(Atom1Feed):
    """Atom whose every text construct is declared `type="text"` (issue 12 §4).

    Django writes an entry's summary as `type="html"`, which tells a feed reader to
    render it as markup: a public reason such as `<img src=x onerror=…>` would become
    an element in the reader's window. Everything this feed carries is plain text
    (titles, reasons, the feed's own title and subtitle), so it says so; XML escaping
    then keeps markup literal."""

    def add_root_elements(self, handler):
        super().add_root_elements(_TextConstructs(handler))

    def add_item_elements(self, handler, item):
        super().add_item_elements(_TextConstructs(handler), item)


class _TextConstructs:
    """The XML handler, with Atom's text constructs (RFC 4287 §3.1) typed "text"."""

    NAMES = frozenset({"title", "subtitle", "summary", "rights", "content"})

    def __init__(self, handler):
        self._handler = handler

    def __getattr__(self, name):
        return getattr(self._handler, name)

    def addQuickElement(self, name, contents=None, attrs=None):
        if name in self.NAMES:
            attrs = {**(attrs or {}), "type": "text"}
        self._handler.addQuickElement(name, contents, attrs)


class PublicChangesFeed(Feed):
    """Atom: the latest FEED_LENGTH public changes (two queries: the last seq and the
    changes with their incidents' public titles)."""

    feed_type = PlainTextAtomFeed

    def title(self):
        return _("CivTrack: recent public changes")

    def subtitle(self):
        return _(
            "Incidents published, updated, withdrawn or merged, newest first. "
            "Mirrors: use the API's changes feed, /api/v1/changes/."
        )

    def link(self):
        language = translation.get_language() or "en"
        return _page("incidents:changes", f"/{language}/changes/")

    def feed_url(self):
        language = translation.get_language() or "en"
        return _page("incidents:changes-feed", f"/{language}/changes/feed/")

    def items(self):
        last = PublicChange.objects.aggregate(last=Max("seq"))["last"] or 0
        changes = list(
            selectors.public_changes(
                after_seq=max(0, last - FEED_LENGTH), limit=FEED_LENGTH
            )
        )
        titles = {
            row["id"]: row
            for row in selectors.public_incidents()
            .filter(id__in={c.incident_id for c in changes})
            .values("id", "title", "title_ar")
        }
        arabic = (translation.get_language() or "en").startswith("ar")
        for change in changes:
            row = titles.get(change.incident_id)
            change.public_title = (
                ((arabic and row["title_ar"]) or row["title"]) if row else ""
            )
        changes.reverse()  # newest first
        return changes

    def item_title(self, item: PublicChange) -> str:
        action = PublicChange.Action(item.action).label
        title = f"{item.code} {action} (version {item.version})"
        if item.public_title:
            title += f": {item.public_title}"
        return title

    def item_description(self, item: PublicChange) -> str:
        return item.public_reason

    def item_link(self, item: PublicChange) -> str:
        language = translation.get_language() or "en"
        return _page(
            "incidents:detail", f"/{language}/incidents/{item.code}/", code=item.code
        )

    def get_object(self, request, *args, **kwargs):
        self.request = request  # for absolute entry ids
        return None

    def item_guid(self, item: PublicChange) -> str:
        # A unique, stable IRI per change: the incident page plus the change's seq.
        return (
            self.request.build_absolute_uri(self.item_link(item))
            + f"#change-{item.seq}"
        )

    item_guid_is_permalink = False

    def item_pubdate(self, item: PublicChange):
        return item.at

    def item_updateddate(self, item: PublicChange):
        return item.at
