"""The admin's import page (PAGES.md) and the read-only ImportBatch admin.

Upload → dry run (a background task) → report (new, changed field by field, unchanged,
rejected with reasons) → confirm → the real import runs as a background task while the
page shows its progress → the batch and its report stay viewable; reviewers and admins
can revert a batch. Views never write rows themselves: batches are created and reverted
through incidents.importers.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from incidents import services
from incidents.importers import FORMATS, import_batch_revert
from incidents.importers.base import ImportFileError, batch_create
from incidents.models import ImportBatch

REPORT_ROWS_SHOWN = 500
STALE_AFTER = timedelta(minutes=1)


def enqueue(batch: ImportBatch) -> None:
    from incidents.tasks import enqueue_import

    enqueue_import(batch)


def shown_status(batch: ImportBatch) -> str:
    """A running batch whose heartbeat is over a minute old is shown as failed."""
    if (
        batch.status == ImportBatch.Status.RUNNING
        and batch.heartbeat_at is not None
        and timezone.now() - batch.heartbeat_at > STALE_AFTER
    ):
        return "failed (no heartbeat for over a minute: the worker stopped)"
    return batch.get_status_display()


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV, plain or .gz")
    format = forms.ChoiceField(
        choices=[(f, dict(ImportBatch.Format.choices)[f]) for f in FORMATS]
    )
    release = forms.CharField(
        required=False,
        max_length=100,
        help_text="Required when the file does not say (UCDP, Insecurity Insight).",
    )
    release_date = forms.DateField(required=False, help_text="YYYY-MM-DD")
    instance = forms.CharField(
        required=False, max_length=100, help_text="CivTrack CSV from another instance"
    )
    skip_bad_rows = forms.BooleanField(required=False)
    publish = forms.BooleanField(
        required=False, help_text="Reviewers and admins: publish from the dataset."
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        if data.get("release_date") and not data.get("release"):
            self.add_error("release", "Give the release name with its date.")
        if data.get("release") and not data.get("release_date"):
            self.add_error("release_date", "Give the release date (YYYY-MM-DD).")
        return data


def report_table(batch: ImportBatch, action: str = "") -> str:
    rows = [e for e in batch.report if not action or e.get("action") == action]
    shown = rows[:REPORT_ROWS_SHOWN]
    body = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                entry.get("line") or "",
                entry.get("external_id") or "",
                entry.get("action"),
                entry.get("incident") or "",
                format_html_join(
                    "", "<div>{}</div>", ((m,) for m in entry.get("messages", []))
                ),
            )
            for entry in shown
        ),
    )
    more = (
        format_html("<p>… and {} more rows.</p>", len(rows) - len(shown))
        if len(rows) > len(shown)
        else ""
    )
    return format_html(
        '<table class="import-report"><thead><tr><th>line</th><th>id</th><th>what '
        "happened</th><th>incident</th><th>why</th></tr></thead><tbody>{}</tbody>"
        "</table>{}",
        body,
        more,
    )


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "format",
        "file_name",
        "release",
        "status_shown",
        "dry_run",
        "rows_created",
        "rows_updated",
        "rows_unchanged",
        "rows_skipped",
        "rows_rejected",
        "rows_warnings",
        "created_at",
    )
    list_filter = ("status", "format", "dry_run", "publish")
    search_fields = ("file_name", "release", "note", "sha256")
    list_select_related = ("user",)
    exclude = ("report", "file")
    readonly_fields = ("report_view", "progress_link")
    change_list_template = "admin/imports/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).defer("report")

    def get_readonly_fields(self, request, obj=None):
        fields = [
            f.name for f in ImportBatch._meta.fields if f.name not in ("report", "file")
        ]
        return [*fields, "progress_link", "report_view"]

    @admin.display(description="status")
    def status_shown(self, obj):
        return shown_status(obj)

    @admin.display(description="progress and actions")
    def progress_link(self, obj):
        url = reverse("admin:incidents_importbatch_progress", args=[obj.pk])
        return format_html('<a href="{}">progress, confirm, revert</a>', url)

    @admin.display(description="per-row report")
    def report_view(self, obj):
        return report_table(obj)

    def has_module_permission(self, request):
        return services.is_staff_member(request.user)

    def has_view_permission(self, request, obj=None):
        return services.is_staff_member(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "import/", wrap(self.import_view), name="incidents_importbatch_import"
            ),
            path(
                "<int:pk>/progress/",
                wrap(self.progress_view),
                name="incidents_importbatch_progress",
            ),
            path(
                "<int:pk>/confirm/",
                wrap(self.confirm_view),
                name="incidents_importbatch_confirm",
            ),
            path(
                "<int:pk>/revert/",
                wrap(self.revert_view),
                name="incidents_importbatch_revert",
            ),
            *super().get_urls(),
        ]

    # views ------------------------------------------------------------------------------

    def _check_staff(self, request):
        if not services.is_staff_member(request.user):
            raise PermissionDenied("Only researchers, reviewers and admins import.")

    def _batch(self, pk) -> ImportBatch:
        batch = ImportBatch.objects.filter(pk=pk).first()
        if batch is None:
            raise Http404("No such import batch.")
        return batch

    def import_view(self, request):
        self._check_staff(request)
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            if data["publish"] and not services.is_reviewer(request.user):
                form.add_error(
                    "publish", "Only reviewers and admins import with publish."
                )
            else:
                upload = data["file"]
                try:
                    batch = batch_create(
                        format=data["format"],
                        file_name=upload.name,
                        file=upload,
                        user=request.user,
                        dry_run=True,
                        skip_bad_rows=data["skip_bad_rows"],
                        publish=data["publish"],
                        release=data["release"],
                        release_date=data["release_date"],
                        instance=data["instance"],
                        note=data["note"],
                    )
                except ImportFileError as error:
                    form.add_error("file", str(error))
                else:
                    enqueue(batch)
                    return redirect("admin:incidents_importbatch_progress", batch.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "Import a dataset",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/imports/import_form.html", context)

    def progress_view(self, request, pk):
        self._check_staff(request)
        batch = self._batch(pk)
        action = request.GET.get("action", "")
        running = batch.status in (
            ImportBatch.Status.QUEUED,
            ImportBatch.Status.RUNNING,
        )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Import #{batch.pk}: {batch.file_name}",
            "batch": batch,
            "status": shown_status(batch),
            "running": running,
            "percent": int(100 * batch.progress_done / batch.progress_total)
            if batch.progress_total
            else 0,
            "report": report_table(batch, action),
            "actions": sorted({e.get("action") for e in batch.report}),
            "action": action,
            "can_confirm": batch.dry_run
            and batch.status == ImportBatch.Status.SUCCEEDED
            and (batch.rows_rejected == 0 or batch.skip_bad_rows),
            "can_revert": not batch.dry_run
            and batch.status == ImportBatch.Status.SUCCEEDED
            and services.is_reviewer(request.user),
            "opts": self.model._meta,
        }
        template = (
            "admin/imports/progress_partial.html"
            if request.headers.get("HX-Request")
            else "admin/imports/progress.html"
        )
        return TemplateResponse(request, template, context)

    def confirm_view(self, request, pk):
        self._check_staff(request)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        dry = self._batch(pk)
        if not dry.dry_run or dry.status != ImportBatch.Status.SUCCEEDED:
            messages.error(request, "Only a finished dry run can be confirmed.")
            return redirect("admin:incidents_importbatch_progress", dry.pk)
        if dry.publish and not services.is_reviewer(request.user):
            raise PermissionDenied("Only reviewers and admins import with publish.")
        dry.file.open("rb")
        try:
            content = ContentFile(dry.file.read(), name=dry.file_name)
        finally:
            dry.file.close()
        batch = batch_create(
            format=dry.format,
            file_name=dry.file_name,
            file=content,
            user=request.user,
            skip_bad_rows=dry.skip_bad_rows,
            publish=dry.publish,
            release=dry.release,
            release_date=dry.release_date,
            instance=dry.instance,
            note=dry.note,
        )
        enqueue(batch)
        return redirect("admin:incidents_importbatch_progress", batch.pk)

    def revert_view(self, request, pk):
        self._check_staff(request)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        batch = self._batch(pk)
        try:
            import_batch_revert(batch=batch, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Import #{batch.pk} reverted.")
        return redirect("admin:incidents_importbatch_progress", batch.pk)
