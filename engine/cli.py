"""``python -m engine run | check | evaluate | predict``.

User mistakes (a bad file, a missing column, a flag that does not fit) print one message per
problem as ``FILE:LINE:COL: field.path: message`` and exit with status 2, no traceback.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager

from engine import __version__
from engine.errors import SpecError, UserError

EXIT_USER_ERROR = 2


@contextmanager
def located(loaded):
    """Re-raise a SpecError from inside the engine with the file and line of its path."""
    try:
        yield
    except SpecError as exc:
        raise exc.located(str(loaded.file), loaded.positions) from None


def cmd_run(args) -> int:
    from engine.runs import execute
    from engine.spec import load

    for file in args.files:
        loaded = load(file, args.set)
        with located(loaded):
            execute(loaded, out=args.out, device=args.device)
    return 0


def cmd_check(args) -> int:
    from engine.check import check_file

    failed = 0
    for file in args.files:
        try:
            check_file(file)
        except UserError as exc:
            print(str(exc), file=sys.stderr)
            failed += 1
    return EXIT_USER_ERROR if failed else 0


def cmd_evaluate(args) -> int:
    from engine.predict import evaluate_run

    evaluate_run(args.run_dir, data=args.data, device=args.device)
    return 0


def cmd_predict(args) -> int:
    from engine.predict import predict_run

    predict_run(args.run_dir, data=args.data, out=args.out, device=args.device)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m engine",
                                description="Deep-learning experiments declared as data files.")
    p.add_argument("--version", action="version", version=f"engine {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="train one or more experiment files")
    run.add_argument("files", nargs="+", metavar="FILE")
    run.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                     help="override a field, e.g. --set training.epoch-count=5 (repeatable)")
    run.add_argument("--out", metavar="DIR", help="folder for run folders (default: output.dir)")
    run.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto")
    run.set_defaults(func=cmd_run)

    check = sub.add_parser("check", help="validate files and infer every layer's shape")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(func=cmd_check)

    ev = sub.add_parser("evaluate", help="metrics and confusion matrix of a run's best network")
    ev.add_argument("run_dir", metavar="RUN_DIR")
    ev.add_argument("--data", metavar="FILE", help="a CSV/Parquet/npz file with the same columns "
                    "(default: the run's own test split)")
    ev.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto")
    ev.set_defaults(func=cmd_evaluate)

    pr = sub.add_parser("predict", help="write the best network's predictions for a data file")
    pr.add_argument("run_dir", metavar="RUN_DIR")
    pr.add_argument("--data", metavar="FILE", required=True)
    pr.add_argument("--out", metavar="FILE.csv", required=True)
    pr.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto")
    pr.set_defaults(func=cmd_predict)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted: the run folder holds the last completed epoch", file=sys.stderr)
        return 130
