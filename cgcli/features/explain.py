"""`cgraph explain`: the forward and backward passes written out step by step.

The forward pass goes up the tape: each node's value from its inputs, with the
numbers (`p = x + y = 1 + 3 = 4`). The backward pass goes down it from the
output, whose gradient is 1: each node's gradient is, summed over its uses,
the user's gradient (upstream) times the local derivative of the user with
respect to the node (`dg/dx = dg/dp * ∂p/∂x = -3 * 1 = -3`), the local
derivative written as its rule from the primitive table (`∂g/∂p = z = -3`).

Every intermediate result gets a name so that the steps can refer to it: its
program name if it has one, else p, q, r, ... (names the program does not
use); an unnamed output is g. The numbers are the ones the evaluator computed,
and the products are summed in the backward loop's order, so the totals shown
are the gradients `cgraph eval` reports.

Each step carries its text as segments (text, role) so that a terminal can
colour it; `lines(step)` gives the plain text. Loops only: no recursion.
"""

from ..core.formula import rule_text
from ..core.numbers import fmt_precision, json_number
from ..core.primitives import CONSTANTS, FUNCTIONS, P_ATOM, P_PRODUCT, P_SUM, P_UNARY, PRIMITIVES, SCALAR, partials
from ..core.tape import CONST, VAR, no_gc, write

# Segment roles (render.py maps them to styles).
NAME, GRAD, LOCAL, NUM, RESULT, NOTE, TEXT = "name", "grad", "local", "num", "result", "note", "text"

_AUTO = "pqrstuvw"
_OUTPUT = ("g", "f", "h", "out", "output")


class Step:
    """One step: `data` is its JSON object (without the text), `segments` its
    lines, each a list of (text, role)."""

    def __init__(self, data, segments):
        self.data = data
        self.segments = segments

    def lines(self):
        return ["".join(t for t, _ in line) for line in self.segments]

    def json(self):
        d = dict(self.data)
        d["text"] = self.lines()
        return d


class Explanation:
    """The steps of both passes. They are made as they are read (`iter_steps`),
    so a graph of any size is explained in constant memory beyond the graph."""

    def __init__(self, result, names, output_label, auto_names, make_steps):
        self.result = result
        self.names = names  # per node of result.graph: the name the steps use (None for constants)
        self.output_label = output_label
        self.auto_names = auto_names  # names given here to unnamed results, in order
        grads = result.grads
        self.has_backward = bool(grads) and grads[-1] is not None
        self._make_steps = make_steps

    def iter_steps(self):
        return self._make_steps()

    @property
    def steps(self):
        return list(self.iter_steps())

    @property
    def forward(self):
        return [s for s in self.iter_steps() if s.data["pass"] == "forward"]

    @property
    def backward(self):
        return [s for s in self.iter_steps() if s.data["pass"] == "backward"]

    def json_obj(self):
        """The explanation as JSON data; "steps" is an iterator (render.json_write streams it)."""
        r = self.result
        return {
            "output": r.output_name,
            "output_label": self.output_label,
            "value": json_number(r.value),
            "gradients": {k: json_number(v) for k, v in r.gradients.items()},
            "named_here": self.auto_names,
            "steps": (s.json() for s in self.iter_steps()),
        }


def explain(program, bindings, wrt=None, nonfinite=False, precision=None):
    """Evaluate `program` at `bindings` and write both passes out as steps.
    `precision` rounds the numbers in the text (None: shortest round-trip)."""
    from ..core.passes import evaluate
    result = evaluate(program, bindings, wrt=wrt, nonfinite=nonfinite)
    g = result.graph
    names, label, auto = _names(g)
    return Explanation(result, names, label, auto, lambda: _steps(result, names, label, precision))


def explain_result(result, precision=None):
    """The explanation of an evaluation already made (`graph --format html` reuses its steps)."""
    names, label, auto = _names(result.graph)
    return Explanation(result, names, label, auto, lambda: _steps(result, names, label, precision))


def step_names(g):
    """Per node the name the steps use (None for unnamed constants)."""
    return _names(g)[0]


def formula(op, operands):
    """`op` applied to operands given as text, as the steps write it (`x + y`)."""
    return _write(op, operands)


class SeveralExplanation(Explanation):
    """--output u,v: one forward pass, then a backward pass per output."""

    def __init__(self, result, names, auto_names, make_steps):
        self.result = result
        self.names = names
        self.labels = {u: names[o] for u, o in zip(result.outputs, result.output_ids)}
        self.output_label = None
        self.auto_names = auto_names
        self.has_backward = any(result.grads[u][o] is not None for u, o in zip(result.outputs, result.output_ids))
        self._make_steps = make_steps

    def json_obj(self):
        d = self.result.to_dict(summary=True)
        return {"outputs": d["outputs"], "output_labels": self.labels, "values": d["values"],
                "jacobian": d["jacobian"], "named_here": self.auto_names,
                "steps": (s.json() for s in self.iter_steps())}


def explain_several(program, outputs, bindings, wrt=None, nonfinite=False, precision=None):
    """`explain` for several outputs (core/jacobian.py): the forward steps once, then
    the backward steps of each output, in the order given."""
    from ..core.jacobian import evaluate
    result = evaluate(program, outputs, bindings, wrt=wrt, nonfinite=nonfinite)
    names, _, auto = _names(result.graph, named_output=True)
    return SeveralExplanation(result, names, auto, lambda: _several_steps(result, names, precision))


def _steps(result, names, label, precision):
    """Yield the forward steps, then the backward ones."""
    with no_gc():  # millions of small acyclic objects: see graph.no_gc
        yield from _steps_inner(result, names, label, precision)


def _steps_inner(result, names, label, precision):
    g = result.graph
    ref = _refs(g, names)
    yield from _forward(g, result.values, names, ref, precision)
    yield from _backward(g, result.values, result.grads, names, ref, label, len(g.ops) - 1, precision)


def _several_steps(result, names, precision):
    """--output u,v: the forward steps over the outputs' shared tape, then a backward
    section per output (its steps' data carry "output")."""
    g = result.graph
    ref = _refs(g, names)
    with no_gc():
        yield from _forward(g, result.values, names, ref, precision)
        for u, o in zip(result.outputs, result.output_ids):
            for step in _backward(g, result.values, result.grads[u], names, ref, names[o], o, precision):
                step.data["output"] = u
                yield step


def _refs(g, names):
    """How a step refers to each node: its name, or a constant's text."""
    n = len(g.ops)
    texts = None  # expressions of constants, computed on demand
    ref = []  # how a step refers to each node: its name, or a constant's text
    for i in range(n):
        if names[i] is not None:
            ref.append(names[i])
        else:
            if texts is None:
                texts = g.exprs()
            ref.append(texts[i])
    return ref


def _forward(g, v, names, ref, precision):
    def num(x):
        return fmt_precision(x, precision)

    for i in range(len(g.ops)):
        op = g.ops[i]
        if op == CONST and names[i] is None:
            continue  # a number in the text: nothing to compute
        value = num(v[i])
        if op == VAR or op == CONST:
            line = [(names[i], NAME), (" = ", TEXT), (value, RESULT)]
            data = {"pass": "forward", "id": i, "name": names[i], "op": op, "inputs": [],
                    "value": json_number(v[i])}
            yield Step(data, [line])
            continue
        args = g.args[i]
        formula = _write(op, [ref[a] for a in args])
        numbers = _write(op, [num(v[a]) for a in args])
        line = [(names[i], NAME), (" = ", TEXT), (formula, TEXT)]
        if numbers != formula and numbers != value:
            line += [(" = ", TEXT), (numbers, NUM)]
        line += [(" = ", TEXT), (value, RESULT)]
        data = {"pass": "forward", "id": i, "name": names[i], "op": op, "expr": formula,
                "inputs": list(args), "operands": [json_number(v[a]) for a in args],
                "value": json_number(v[i])}
        yield Step(data, [line])


def _backward(g, v, gr, names, ref, label, out, precision):
    """The backward steps of the output node `out` (`label` its name), whose
    gradients are `gr` (None for the nodes it does not depend on)."""
    def num(x):
        return fmt_precision(x, precision)

    n = len(g.ops)
    if n and gr[out] is not None:
        users = [[] for _ in range(n)]
        for u in range(n):
            for k, a in enumerate(g.args[u]):
                users[a].append((u, k))
        local_ds = {}  # node -> its local derivatives
        d_out = "d%s" % label

        def dname(i):
            return "%s/d%s" % (d_out, names[i])

        for i in range(out, -1, -1):
            if gr[i] is None:
                continue
            if i == out:
                line = [(dname(i), GRAD), (" = ", TEXT), (num(gr[i]), RESULT)]
                data = {"pass": "backward", "id": i, "name": names[i], "grad": json_number(gr[i]),
                        "terms": []}
                yield Step(data, [line])
                continue
            uses = [(u, k) for u, k in reversed(users[i]) if gr[u] is not None]
            uses.sort(key=lambda uk: (-uk[0], uk[1]))
            count = {}
            for u, _ in uses:
                count[u] = count.get(u, 0) + 1
            repeated = {u for u, c in count.items() if c > 1}
            terms, segs = [], []
            for u, k in uses:
                if u not in local_ds:
                    local_ds[u] = _local(g, v, u)
                local = local_ds[u][k]
                formula = _local_text(g, u, k, ref)
                partial = "∂%s/∂%s" % (names[u], names[i])
                line = [("    where ", NOTE), (partial, LOCAL)]
                if u in repeated:
                    line.append((" (operand %d)" % (k + 1), NOTE))
                line.append((" = ", TEXT))
                if formula and formula != num(local):
                    line += [(formula, TEXT), (" = ", TEXT)]
                line.append((num(local), NUM))
                note = _kink_note(g, v, u, k, ref, num)
                if note:
                    line.append(("   (%s)" % note, NOTE))
                segs.append(line)
                terms.append({"via": u, "via_name": names[u], "arg": k,
                              "upstream": json_number(gr[u]), "local": json_number(local),
                              "local_formula": formula, "product": json_number(gr[u] * local)})
            chain = [(dname(i), GRAD), (" = ", TEXT)]
            for t, (u, _k) in enumerate(uses):
                if t:
                    chain.append((" + ", TEXT))
                chain += [(dname(u), GRAD), (" * ", TEXT), ("∂%s/∂%s" % (names[u], names[i]), LOCAL)]
            chain.append((" = ", TEXT))
            prods = []
            for t, (u, k) in enumerate(uses):
                up = num(gr[u])
                prods.append("%s * %s" % ("(%s)" % up if t and up.startswith("-") else up,
                                          _atom(num(local_ds[u][k]))))
            chain.append((" + ".join(prods), NUM))
            if len(uses) > 1:
                chain += [(" = ", TEXT), (_sum([num(gr[u] * local_ds[u][k]) for u, k in uses]), NUM)]
            chain += [(" = ", TEXT), (num(gr[i]), RESULT)]
            segs.insert(0, chain)
            data = {"pass": "backward", "id": i, "name": names[i], "grad": json_number(gr[i]),
                    "terms": terms}
            yield Step(data, segs)


# ---- names ------------------------------------------------------------------

def _names(g, named_output=False):
    """Per node the name the steps use; unnamed operations get p, q, r, ...
    and an unnamed output g (unless `named_output`: the outputs are named, and the
    last node need not be one). Returns (names, output's name, names given here)."""
    shown = g.display_names()
    taken = set(n for n in shown if n) | set(g.inputs) | set(CONSTANTS) | set(FUNCTIONS)
    fresh = _fresh(taken)
    names = list(shown)
    auto = []
    n = len(names)
    if n and names[-1] is None and not named_output:
        out = next((c for c in _OUTPUT if c not in taken), None) or next(fresh)
        taken.add(out)
        names[-1] = out
        auto.append(out)
    for i in range(n if named_output else n - 1):
        if names[i] is None and g.ops[i] not in (VAR, CONST):
            names[i] = next(fresh)
            auto.append(names[i])
    if auto and n and auto[0] == names[-1] and g.ops[-1] not in (VAR, CONST) and not named_output:
        auto = auto[1:] + auto[:1]  # list the output's name last, as the steps meet it
    return names, names[-1] if n else "output", auto


def _fresh(taken):
    k = 0
    while True:
        for c in _AUTO:
            name = c if k == 0 else "%s%d" % (c, k)
            if name not in taken:
                taken.add(name)
                yield name
        k += 1


# ---- writing ----------------------------------------------------------------

def _write(op, texts):
    """`op` applied to operands given as text (names or numbers), a negative
    operand in parentheses except first in a sum or product (`-3 * 1`, `4 * (-3)`)."""
    prim = PRIMITIVES[op]
    operands = []
    for k, t in enumerate(texts):
        if t.startswith("-") and prim.symbol is not None:
            if k == 0 and len(texts) == 2 and prim.prec in (P_SUM, P_PRODUCT):
                operands.append((t, P_UNARY))
            else:
                operands.append(("(%s)" % t, P_ATOM))
        else:
            operands.append((t, P_ATOM))
    return write(op, operands)[0]


def _sum(terms):
    return " + ".join(t if k == 0 or not t.startswith("-") else "(%s)" % t for k, t in enumerate(terms))


def _atom(t):
    return "(%s)" % t if t.startswith("-") else t


def _local_text(g, u, k, ref):
    """The rule for ∂u/∂(operand k), in the operands' names: `z`, `1 - tanh(a)^2`
    (the row's derivative rule run in the text namespace, core/formula.py)."""
    args = g.args[u]
    return rule_text(PRIMITIVES[g.ops[u]], len(args))[k].format(*[_atom(ref[a]) for a in args])


def _local(g, v, u):
    """The local derivatives of node u with respect to each operand that depends
    on an input (None for the others), as the backward pass computes them."""
    args = g.args[u]
    try:
        return partials(PRIMITIVES[g.ops[u]], SCALAR, [v[a] for a in args], v[u],
                        [g.depends[a] for a in args])
    except (ValueError, ZeroDivisionError, OverflowError):  # only with --nonfinite
        from ..core.passes import ieee_partials
        return ieee_partials(g, v, u)


def _kink_note(g, v, u, k, ref, num):
    """A word on the conventions at points without a derivative (PyTorch's choices)."""
    op = g.ops[u]
    args = g.args[u]
    a = args[k]
    if op in ("relu", "abs") and v[a] == 0:
        return "%s has a kink at %s = 0: the backward pass takes %s'(0) = 0, as PyTorch does" % (
            op, ref[a], op)
    if op in ("min", "max"):
        tied = [j for j in args if v[j] == v[u]]
        if len(tied) > 1 and v[a] == v[u]:
            who = list(dict.fromkeys(ref[j] for j in tied))
            if len(who) == 1:
                who = "%s (used %d times) is" % (who[0], len(tied))
            else:
                who = "%s and %s are %s" % (", ".join(who[:-1]), who[-1], "both" if len(who) == 2 else "all")
            return "a tie: %s the %s (%s), so the gradient is shared equally" % (
                who, "smallest" if op == "min" else "largest", num(v[u]))
    if op == "pow" and k == 0 and v[a] == 0:
        return "0^y: PyTorch's convention at a zero base"
    return None
