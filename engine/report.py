"""What a run prints: a progress bar while an epoch trains, then one line per epoch."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


def epoch_line(record: dict, epoch_count: int, metric: str) -> str:
    """One epoch as a line: epoch, train loss, test loss, precision, recall, F-score,
    samples/s; ``*`` marks a new best. With a validation split, its loss is shown too and
    precision/recall/F are the validation's (the split that chooses the best network)."""
    split = record["selection"]
    s = record[split]
    f_name = "f-beta" if metric == "f-beta" else "f1"
    tag = "val-" if split == "validation" else ""
    val_loss = f"  val-loss {s['loss']:.4f}" if split == "validation" else ""
    return (f"epoch {record['epoch']:>3}/{epoch_count}  train-loss {record['train-loss']:.4f}  "
            f"test-loss {record['test']['loss']:.4f}{val_loss}  {tag}precision {s['precision']:.3f}  "
            f"{tag}recall {s['recall']:.3f}  {tag}{f_name} {s[f_name]:.3f}  "
            f"samples/s {record['samples-per-second']:,.0f}" + ("  *" if record["best"] else ""))


class ConsoleReporter:
    """Observer for engine.train.train that draws a rich progress bar and prints lines."""

    def __init__(self, epoch_count: int, metric: str, console: Console | None = None):
        self.console = console or Console(highlight=False)
        self.epoch_count, self.metric = epoch_count, metric
        self.progress = None
        self.task = None

    def epoch_start(self, epoch: int, total_batches: int) -> None:
        if not self.console.is_terminal:  # a log file or CI: the epoch lines say it all
            return
        self.progress = Progress(TextColumn(f"epoch {epoch}/{self.epoch_count}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(),
                                 console=self.console, transient=True)
        self.progress.start()
        self.task = self.progress.add_task("train", total=total_batches)

    def batch_done(self, done: int) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=done)

    def epoch_end(self, record: dict, params, net) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        self.print(epoch_line(record, self.epoch_count, self.metric))

    def print(self, line: str) -> None:
        """One line, never wrapped (it is a log line, not a paragraph)."""
        self.console.print(line, soft_wrap=True)


class Observers:
    """Several observers told the same events, in order."""

    def __init__(self, *observers):
        self.observers = [o for o in observers if o is not None]

    def epoch_start(self, epoch, total_batches):
        for o in self.observers:
            o.epoch_start(epoch, total_batches)

    def batch_done(self, done):
        for o in self.observers:
            o.batch_done(done)

    def epoch_end(self, record, params, net):
        for o in self.observers:
            o.epoch_end(record, params, net)
