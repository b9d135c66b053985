"""`cgraph diff`: which derivatives to take, from --wrt and --order.

A derivative is a sequence of input names, differentiated by in turn: (x,) is
d/dx, (x, x) d2/dx2, (x, y) the mixed partial d2/dxdy. `--wrt x,y` asks for one
derivative per name; `--wrt` given again differentiates each of those again
(all combinations); `--order N` repeats a single --wrt N times.
"""

from ..core.errors import UsageError


def derivative_sequences(program, steps=None, order=1, outputs=None):
    """The name sequences for derive.diff_text, without repeats, in order.

    `steps` is one list of names per --wrt (None or empty: each input the output
    reads, once; with `outputs`, several names: each input one of them reads)."""
    steps = [list(s) for s in steps or []]
    if not steps and outputs:
        from ..core.jacobian import Outputs
        steps = [list(Outputs(program, outputs).graph.inputs)]
    if not steps:
        steps = [list(program.cone()[0].inputs)]
        if not steps[0]:
            raise UsageError("nothing to differentiate: the output reads no inputs (name one with --wrt for its 0)")
    if order > 1:
        if len(steps) > 1:
            raise UsageError("--order repeats a single --wrt; --wrt given %d times already differentiates "
                             "%d times" % (len(steps), len(steps)))
        seqs = [(name,) * order for name in steps[0]]
    else:
        seqs = [()]
        for step in steps:
            seqs = [s + (name,) for s in seqs for name in step]
    return list(dict.fromkeys(seqs))
