"""Learning (`cgraph minimize`, `cgraph train`): the epochs as they go, and where a run ended."""

from ..core.numbers import fmt
from .common import console, num, text

_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values, width=60):
    """A loss curve in one line of block characters (log scale when the values are
    positive and span more than two orders of magnitude)."""
    import math
    vals = [v for v in values if math.isfinite(v)]
    if not vals:
        return ""
    if len(vals) > width:  # the mean of each of `width` slices
        step = len(vals) / width
        vals = [sum(vals[int(k * step):max(int(k * step) + 1, int((k + 1) * step))]) /
                max(1, int((k + 1) * step) - int(k * step)) for k in range(width)]
    lo, hi = min(vals), max(vals)
    if lo > 0 and hi / lo > 100:
        vals, lo, hi = [math.log10(v) for v in vals], math.log10(lo), math.log10(hi)
    if hi == lo:
        return _BARS[0] * len(vals)
    return "".join(_BARS[min(7, int((v - lo) / (hi - lo) * 8))] for v in vals)


def learned(outcome, out, fmt_, precision=6, kind="minimize"):
    """The end of a minimize or train run: why it stopped, the parameters, the final value or cost."""
    what = "value" if kind == "minimize" else "cost"
    count = "steps" if kind == "minimize" else "epochs"
    from ..features.library import method_fields, outcome_json
    extra = method_fields(outcome, kind)
    if fmt_ == "json":
        import json
        out.write(json.dumps(outcome_json(outcome, kind)) + "\n")
        return
    if fmt_ == "plain":
        lines = ["stopped\t%s" % outcome.reason, "converged\t%s" % str(outcome.converged).lower(),
                 "%s\t%d" % (count, outcome.steps), "%s\t%s" % (what, fmt(outcome.value))]
        lines += ["param\t%s\t%s" % (k, fmt(v)) for k, v in outcome.params.items()]
        lines += ["grad\t%s\t%s" % (k, fmt(v)) for k, v in outcome.gradients.items()]
        for k, v in extra.items():
            lines += ["%s\t%s" % (k, v)] if isinstance(v, str) else ["%s\t%s\t%d" % (k, e, c) for e, c in v.items()]
        out.write("\n".join(lines) + "\n")
        return
    from rich import box
    from rich.table import Table
    con = console(out)
    con.print(text("%s stopped after %d %s: %s" % (kind, outcome.steps, count, outcome.reason)))
    if extra:
        counts = extra.get("evaluations", {})
        con.print(text("%s %s%s" % ("method" if kind == "minimize" else "optimizer", outcome.method, "".join(
            "%s %d of the %s" % ("; evaluations:" if k == 0 else ",", c, e) for k, (e, c) in enumerate(counts.items())))))
    t = Table(box=box.SIMPLE_HEAD)
    t.add_column("parameter", style="cyan", overflow="fold")
    t.add_column("value", justify="right", no_wrap=True, overflow="fold")
    t.add_column("gradient", justify="right", style="green", no_wrap=True, overflow="fold")
    for k, v in outcome.params.items():
        t.add_row(text(k), num(v, precision), num(outcome.gradients[k], precision))
    con.print(t)
    label = "final value" if kind == "minimize" else "final mean cost"
    con.print(text("%s = %s" % (label, num(outcome.value, precision))))
    curve = sparkline(outcome.history)
    if curve:
        con.print(text("%s %s  %s -> %s" % ("value" if kind == "minimize" else "cost", curve,
                                            num(outcome.history[0], 3), num(outcome.history[-1], 3))))


class EpochReporter:
    """What a person sees while `train` runs: a progress bar on stderr (only when
    stderr is a terminal) and a line every `every` epochs with the mean cost."""

    def __init__(self, fmt_, out, err, epochs, every=None, precision=6):
        self.fmt = fmt_
        self.out = out
        self.err = err
        self.epochs = epochs
        self.every = every or max(1, epochs // 20)  # about 20 lines
        self.precision = precision
        self.progress = None

    def __enter__(self):
        if self.err.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
            self.progress = Progress(TextColumn("epoch"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("cost {task.fields[cost]}"), TimeRemainingColumn(),
                                     console=console(self.err), transient=True)
            self.task = self.progress.add_task("train", total=self.epochs, cost="")
            self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.__exit__(*exc)
        return False

    def epoch(self, epoch, cost, params):
        if self.progress is not None:
            self.progress.update(self.task, completed=epoch, cost=num(cost, 4))
        if self.fmt == "json" or (epoch % self.every and epoch != 1):
            return
        if self.fmt == "plain":
            self.out.write("epoch\t%d\t%s\n" % (epoch, fmt(cost)))
        else:
            line = "epoch %*d/%d  mean cost %s" % (len(str(self.epochs)), epoch, self.epochs,
                                                   num(cost, self.precision))
            if self.progress is not None:
                self.progress.console.print(text(line))
            else:
                self.out.write(line + "\n")
        self.out.flush()
