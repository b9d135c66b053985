"""`cgraph explain --mode forward`: forward-mode AD written out step by step.

After the forward pass's values (the same steps as reverse mode's explanation),
each tangent sweep goes up the tape once: an input's tangent is its component of
the direction, and each node's tangent is the sum over its operands of the
local derivative times the operand's tangent (`dp = dx + dy = 1 + 0 = 1`,
`dg = dp * z + p * dz = 1 * (-3) + 4 * 0 = -3`), the local derivative written
as its rule from the primitive table (core/formula.py), as the backward steps
write it, and its number computed by the same rule (`partials()`).

With a direction (`--tangent`) there is one sweep; without, one sweep per
reported input (dx = 1, the others 0), which is the lesson: forward mode costs
one sweep per input, reverse mode one backward sweep for every input's gradient.
The tangents shown are core/forward.py's: the numbers `eval --tangent` reports.
Loops only; the sweeps are made as they are read.
"""

import itertools

from ..core.forward import check_direction, tangents
from ..core.numbers import fmt_precision, json_number
from ..core.tape import CONST, VAR, no_gc
from .explain import (
    GRAD,
    LOCAL,
    NOTE,
    NUM,
    RESULT,
    TEXT,
    Explanation,
    Step,
    _atom,
    _kink_note,
    _local,
    _local_text,
    _names,
    _steps,
)


class ForwardExplanation(Explanation):
    """The forward pass's steps, then each sweep's tangent steps (pass "tangent",
    with the sweep's number). `directions`: one {input: tangent} per sweep;
    `out_tangents`: the output's tangent of each sweep; `unit`: the sweeps are
    one per input (no --tangent)."""

    mode = "forward"

    def __init__(self, result, names, label, auto, make_steps, directions, out_tangents, unit):
        super().__init__(result, names, label, auto, make_steps)
        self.directions = directions
        self.out_tangents = out_tangents
        self.unit = unit

    def json_obj(self):
        obj = super().json_obj()
        steps = obj.pop("steps")
        obj["mode"] = "forward"
        obj["directions"] = [{k: json_number(x) for k, x in d.items()} for d in self.directions]
        obj["tangents"] = [json_number(t) for t in self.out_tangents]
        obj["steps"] = steps
        return obj

    def title(self, k):
        """The heading of sweep k."""
        what = "each node's tangent is the sum of local derivative * operand's tangent"
        d = self.directions[k]
        if self.unit:
            return "Forward mode, sweep %d of %d, along d%s = 1 (the other inputs' tangents 0): %s" % (
                k + 1, len(self.directions), next(iter(d)), what)
        return "Forward mode along %s (the other inputs' tangents 0): %s" % (direction_text(d), what)

    def summary(self, num):
        label = self.output_label
        head = "So %s = %s" % (label, num(self.result.value))
        if self.unit:
            k = len(self.directions)
            if not k:
                return head + "; it depends on no input, and there is no sweep."
            parts = ", ".join("d%s/d%s = %s" % (label, next(iter(d)), num(t))
                              for d, t in zip(self.directions, self.out_tangents))
            return "%s; %s: %d forward sweep%s, one per input (reverse mode: one backward sweep for all)." % (
                head, parts, k, "" if k == 1 else "s")
        return "%s; d%s = %s along %s (the gradient's dot product with the direction: one forward sweep)." % (
            head, label, num(self.out_tangents[0]), direction_text(self.directions[0]))


def direction_text(d):
    return ", ".join("d%s = %s" % (k, fmt_precision(x, None)) for k, x in d.items()) or "no input"


def explain_forward(program, bindings, wrt=None, nonfinite=False, precision=None, direction=None):
    """Evaluate `program` at `bindings` and write forward mode out: the values,
    then one tangent sweep along `direction` ({input: tangent}), or without it one
    sweep per reported input."""
    from ..core.passes import evaluate
    result = evaluate(program, bindings, wrt=wrt, nonfinite=nonfinite)
    if direction is not None:
        directions, unit = [check_direction(program, direction)], False
    else:
        directions, unit = [{name: 1.0} for name in result.wrt], True
    g, v = result.graph, result.values
    outs = []
    for d in directions:  # the output's tangents, for the summary (the steps sweep again, as read)
        t = tangents(g, v, d, nonfinite)
        outs.append(t[-1] if t and t[-1] is not None else 0.0)
    names, label, auto = _names(g)

    def make():
        return _all_steps(result, names, label, precision, directions, nonfinite)
    return ForwardExplanation(result, names, label, auto, make, directions, outs, unit)


def _all_steps(result, names, label, precision, directions, nonfinite):
    yield from itertools.takewhile(lambda s: s.data["pass"] == "forward", _steps(result, names, label, precision))
    with no_gc():
        for k, d in enumerate(directions):
            yield from _sweep(result, names, precision, k, d, nonfinite)


def _sweep(result, names, precision, k, d, nonfinite):
    g, v = result.graph, result.values
    t = tangents(g, v, d, nonfinite)
    dep = g.depends
    n = len(g.ops)

    def num(x):
        return fmt_precision(x, precision)

    texts = None
    ref = []
    for i in range(n):
        if names[i] is None:
            if texts is None:
                texts = g.exprs()
            ref.append(texts[i])
        else:
            ref.append(names[i])
    for i in range(n):
        if not dep[i] or g.ops[i] == CONST:
            continue
        dn = "d%s" % names[i]
        if g.ops[i] == VAR:
            data = {"pass": "tangent", "sweep": k, "id": i, "name": names[i], "tangent": json_number(t[i]),
                    "terms": []}
            yield Step(data, [[(dn, GRAD), (" = ", TEXT), (num(t[i]), RESULT)]])
            continue
        args = g.args[i]
        locals_ = _local(g, v, i)
        mul = g.ops[i] == "mul"
        formula, numbers, wheres, terms = [], [], [], []
        for j, a in enumerate(args):
            if not dep[a]:
                continue  # its tangent is 0: no term
            rule = _local_text(g, i, j, ref)
            local = locals_[j]
            da, ta = "d%s" % names[a], num(t[a])
            factor = "∂%s/∂%s" % (names[i], names[a]) if " if " in rule else _wrap(rule)  # a phrase: by name
            if rule == "1":
                ftext, ntext = da, ta
            elif rule == "-1":
                ftext, ntext = "-" + da, "-" + _atom(ta)
            elif mul and j == 0:
                ftext, ntext = "%s * %s" % (da, factor), "%s * %s" % (ta, _atom(num(local)))
            else:
                ftext, ntext = "%s * %s" % (factor, da), "%s * %s" % (num(local), _atom(ta))
            formula.append(ftext)
            numbers.append(ntext)
            if rule != num(local) and rule not in ("1", "-1"):
                line = [("    where ", NOTE), ("∂%s/∂%s" % (names[i], names[a]), LOCAL), (" = ", TEXT),
                        (rule, TEXT), (" = ", TEXT), (num(local), NUM)]
                note = _kink_note(g, v, i, j, ref, num)
                if note:
                    line.append(("   (%s)" % note.replace("the backward pass takes", "both modes take"), NOTE))
                wheres.append(line)
            terms.append({"arg": j, "input": a, "input_name": names[a], "local": json_number(local),
                          "local_formula": rule, "input_tangent": json_number(t[a]),
                          "product": json_number(local * t[a])})
        ftext, ntext, value = _join(formula), _join(numbers), num(t[i])
        line = [(dn, GRAD), (" = ", TEXT), (ftext, TEXT)]
        if ntext != ftext and ntext != value:
            line += [(" = ", TEXT), (ntext, NUM)]
        line += [(" = ", TEXT), (value, RESULT)]
        data = {"pass": "tangent", "sweep": k, "id": i, "name": names[i], "tangent": json_number(t[i]),
                "terms": terms}
        yield Step(data, [line] + wheres)


def _wrap(rule):
    """A local derivative's formula as a factor: parenthesized unless a product or an atom."""
    if " " not in rule or all(part and " " not in part for part in rule.split(" * ")):
        return rule
    return "(%s)" % rule


def _join(terms):
    out = ""
    for k, term in enumerate(terms):
        if k == 0:
            out = term
        elif term.startswith("-") and not term.startswith("-("):
            out += " - " + term[1:]
        else:
            out += " + " + term
    return out
