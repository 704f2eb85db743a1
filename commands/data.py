"""`project create|list`, `import`, `export`, `stats` (DESIGN.md command line contract)."""
from __future__ import annotations

import argparse

from core.data import exporter, formats, importer
from core.base.errors import CommandFailed, UserError
from core.base.store import sessions
from db import projects as project_repo
from db import samples as sample_repo
from db.errors import AlreadyExists


def register(sub, common: argparse.ArgumentParser) -> None:
    project = sub.add_parser("project", parents=[common], help="create or list projects")
    psub = project.add_subparsers(dest="project_command", required=True, metavar="ACTION")
    create = psub.add_parser("create", parents=[common], help="create a project")
    create.add_argument("name")
    create.add_argument("--task", required=True, choices=("ner", "classification"))
    create.add_argument("--labels", default="", help="comma-separated label names, e.g. person,location")
    create.add_argument("--multilabel", action="store_true", help="classification: a sample may have several labels")
    create.add_argument("--language", default="en", help="language hint (e.g. en, zh)")
    create.set_defaults(handler=create_project)
    listing = psub.add_parser("list", parents=[common], help="list projects")
    listing.set_defaults(handler=list_projects)
    bundle = psub.add_parser("import", parents=[common], help="create a project from a .tagtune bundle")
    bundle.add_argument("file")
    bundle.add_argument("--name", help="project name (default: the name in the bundle)")
    bundle.set_defaults(handler=import_bundle)

    imp = sub.add_parser("import", parents=[common], help="import a data file into a project (all or nothing)")
    imp.add_argument("name")
    imp.add_argument("file")
    imp.add_argument("--format", choices=formats.IMPORT_FORMATS, help="default: from the file extension")
    imp.add_argument("--split", choices=("train", "dev", "test", "unassigned"))
    imp.add_argument("--text-column", help="csv/tsv/jsonl: the column with the text (default: text)")
    imp.add_argument("--label-column", help="csv/tsv/jsonl: the column with the label(s) (default: label)")
    imp.add_argument("--skip-invalid", action="store_true", help="import the valid samples, report the bad lines")
    imp.add_argument("--tag-names", help="Hugging Face class ids -> names: A,B,C in id order, or dataset_info.json")
    imp.add_argument("--duplicates", choices=importer.DUPLICATES, default="keep",
                     help="samples whose normalised text is already in the project or earlier in the file "
                          "(default: keep; the report counts them)")
    imp.add_argument("--decode-entities", action=argparse.BooleanOptionalAction, default=None,
                     help="decode HTML entities (&amp; -> &) in texts; remembered per project (default: off)")
    imp.set_defaults(handler=import_file)

    exp = sub.add_parser("export", parents=[common], help="export a project's samples and annotations")
    exp.add_argument("name")
    exp.add_argument("out")
    exp.add_argument("--format", choices=formats.EXPORT_FORMATS, help="default: from the file extension")
    exp.add_argument("--split", choices=("train", "dev", "test", "unassigned"))
    exp.set_defaults(handler=export_file)

    st = sub.add_parser("stats", parents=[common], help="sample, split and label counts of a project")
    st.add_argument("name")
    st.set_defaults(handler=stats)


def create_project(args) -> dict:
    labels = [l.strip() for l in args.labels.split(",") if l.strip()]
    try:
        with sessions().begin() as s:
            project = project_repo.create_project(s, args.name, args.task, labels, args.multilabel, args.language)
            return _describe(s, project)
    except AlreadyExists as exc:
        raise UserError(str(exc)) from exc


def list_projects(args) -> dict:
    with sessions().begin() as s:
        return {"projects": [_describe(s, p) for p in project_repo.list_projects(s)]}


def _describe(s, project) -> dict:
    return {
        "name": project.name,
        "task": project.task,
        "multilabel": project.multilabel,
        "labels": [l.name for l in project_repo.labels_of(s, project)],
        "samples": sample_repo.list_samples(s, project, limit=0)[1],
    }


def import_file(args) -> dict:
    request = importer.ImportRequest(
        project=args.name, filename=args.file, fmt=args.format, split=args.split,
        text_column=args.text_column, label_column=args.label_column, skip_invalid=args.skip_invalid,
        tag_names=importer.tag_names(args.tag_names), duplicates=args.duplicates, decode_entities=args.decode_entities,
    )
    report = importer.import_path(request, args.file)
    if report["errors"] and report["imported"] == 0:
        raise CommandFailed(importer.failure_reason(report), report)
    return report


def import_bundle(args) -> dict:
    from pathlib import Path

    from core.data.bundle import import_bundle as load

    path = Path(args.file)
    if not path.is_file():
        raise UserError(f"no file at {args.file!r}: expected a .tagtune bundle; check the path")
    report = load(path.read_bytes(), args.name)
    if report["errors"]:
        first = report["errors"][0]
        raise CommandFailed(f"nothing imported: line {first['line']}: {first['message']}", report)
    return report


def export_file(args) -> dict:
    return exporter.export_path(args.name, args.out, args.format, args.split)


def stats(args) -> dict:
    with sessions().begin() as s:
        project = project_repo.get_project(s, args.name)
        return {"project": project.name, "task": project.task, **sample_repo.stats(s, project)}
