"""Several outputs of one program (`--output u,v`): the Jacobian.

The shared tape is the union of the outputs' cones (one forward pass over it);
then one backward pass per output, seeded with 1 at that output, over that
output's own cone, so a node an output does not depend on has no gradient for
it (None) and a derivative outside an output's cone is never computed for it.
Row u of the Jacobian is output u's gradient of each reported input.

When only the Jacobian is needed (the records of `eval --data --output u,v`, the
`--summary`, the library's `columns` and `evaluate`'s `jacobian`) and fewer inputs
are reported than there are outputs, forward mode is cheaper: one tangent sweep
per reported input x along e_x over the shared tape (core/forward.py) gives column
x of the Jacobian for every output at once (`use_forward`). The sums are taken in
another order, so the last digits may differ from reverse mode's. A bad row or
evaluation is reported as reverse mode reports it: the scalar reverse passes are
re-run there and give the message. Nothing recurses.
"""

from . import forward as tangent
from . import passes
from .errors import CgraphError, UsageError, unbound_inputs
from .numbers import json_number
from .passes import check_bindings, forward, read_inputs
from .tape import no_gc


def output_names(items, option="--output"):
    """`--output` values ("u,v", or the option repeated) as a list of names: an empty
    item or a name given twice is a usage error."""
    names = []
    for item in items:
        for name in item.split(","):
            name = name.strip()
            if not name:
                raise UsageError("%s %r: an empty name in the list" % (option, item),
                                 hint="give NAME or A,B,...")
            if name in names:
                raise UsageError("%s: %s is named twice" % (option, name))
            names.append(name)
    return names


class Outputs:
    """The outputs' shared tape: `graph` (the union of their cones, renumbered in
    topological order), `ids` (each output's node in it) and, per output, its cone
    (subgraph, the union's ids of its nodes). `program` has the newest output as its
    output, so the inputs read up to it are the ones that must be bound."""

    def __init__(self, program, names):
        from .language import Program
        if len(set(names)) != len(names):
            raise UsageError("--output: %s is named twice" % next(n for n in names if names.count(n) > 1))
        base = program.graph
        ids = [program.select(n).output for n in names]
        g, new = base.subgraph(ids)
        self.graph = base if g is None else g
        self.names = list(names)
        self.ids = [new[i] for i in ids]
        self.cones = []
        for o in self.ids:
            sub, m = self.graph.subgraph([o])
            self.cones.append((self.graph, list(range(len(self.graph)))) if sub is None else (sub, list(m)))
        self.program = Program(base, max(ids), None, program.source)
        self.source = program


class Jacobian:
    """The passes' outcome for several outputs. `values[i]` belongs to node i of
    `graph`; `grads[u][i]` is d u / d node i (None where u does not depend on node i
    or the node depends on no input); `value[u]` is output u's value and
    `jacobian[u][x]` d u / d x for each reported input x (`wrt`)."""

    def __init__(self, outs, values, grads, wrt, warnings, nonfinite=False, jacobian=None):
        self.program = outs.source
        self.graph = outs.graph
        self.outputs = outs.names
        self.output_ids = outs.ids
        self.values = values
        self._outs, self._grads, self._nonfinite = outs, grads, nonfinite
        self.wrt = wrt
        self.warnings = warnings
        inputs = outs.graph.inputs
        self.value = {u: values[o] for u, o in zip(outs.names, outs.ids)}
        self.mode = "reverse" if jacobian is None else "forward"
        self.jacobian = jacobian if jacobian is not None else {
            u: {x: _or0(grads[u][inputs[x]]) if x in inputs else 0.0 for x in wrt} for u in outs.names}

    @property
    def grads(self):
        """Per output, each node's gradient: by the backward passes, run on first use
        when the Jacobian came from forward mode."""
        if self._grads is None:
            self._grads = backward_passes(self._outs, self.values, self._nonfinite)
        return self._grads


    def node_rows(self):
        """Per node: (id, name, expr, op, input ids, value, [grad per output])."""
        g = self.graph
        names = g.display_names()
        texts = g.exprs()
        grads = [self.grads[u] for u in self.outputs]
        return [(i, names[i], texts[i], g.ops[i], g.args[i], self.values[i], [gu[i] for gu in grads])
                for i in range(len(g.ops))]

    def to_dict(self, summary=False):
        """{"outputs": [...], "values": {u: v}, "jacobian": {u: {x: d}}, "nodes": [...]} (the
        JSON of `cgraph eval --output u,v`), each node's "grad" a map by output (None where
        that output does not depend on it); non-finite numbers as "inf", "-inf", "nan"."""
        outs = self.outputs
        return {
            "outputs": list(outs),
            "values": {u: json_number(v) for u, v in self.value.items()},
            "jacobian": {u: {x: json_number(d) for x, d in row.items()} for u, row in self.jacobian.items()},
            "nodes": [] if summary else [
                {"id": i, "op": op, "expr": expr, "inputs": list(args), "value": json_number(value),
                 "grad": {u: None if d is None else json_number(d) for u, d in zip(outs, grads)}, "name": name}
                for i, name, expr, op, args, value, grads in self.node_rows()],
        }

    def __repr__(self):
        return "Jacobian(value=%r, jacobian=%r)" % (self.value, self.jacobian)


def _or0(g):
    return 0.0 if g is None else g


def check(program, names, bindings, wrt=None):
    """(Outputs, wrt names, warnings): the outputs, the bindings and --wrt checked."""
    outs = Outputs(program, names)
    wrt, warnings = check_bindings(outs.program, outs.graph, bindings, wrt)
    missing = [name for name in read_inputs(outs.program) if name not in bindings]
    if missing:
        raise unbound_inputs(missing)
    return outs, wrt, warnings


def use_forward(g, n_outputs, wrt):
    """Whether forward mode is cheaper for the Jacobian: fewer of the reported inputs
    `wrt` are inputs of the shared tape `g` (one tangent sweep each) than there are
    outputs (one backward sweep each), and at least one (so that the derivatives
    are computed, and their errors found, as in reverse mode)."""
    return 0 < len(swept(g, wrt)) < n_outputs


def swept(g, wrt):
    """The reported inputs a tangent sweep is run for (those the tape reads)."""
    return [x for x in wrt if x in g.inputs]


def backward_passes(outs, values, nonfinite=False):
    """Per output, the gradient of every node of the shared tape (None outside its cone)."""
    n = len(outs.graph)
    grads = {}
    for u, (sub, old) in zip(outs.names, outs.cones):
        sg = passes.backward(sub, [values[i] for i in old], nonfinite)
        gu: list = [None] * n
        for j, i in enumerate(old):
            gu[i] = sg[j]
        grads[u] = gu
    return grads


def evaluate(program, names, bindings, wrt=None, nonfinite=False, mode="reverse"):
    """One forward pass over the outputs' shared tape, then one backward pass per
    output (mode "reverse": every node's gradient), or, with mode "auto" when
    `use_forward` and not `nonfinite`, one tangent sweep per reported input (the
    Jacobian; `grads` is then computed on first use). In forward mode an error, or a
    non-finite tangent, re-runs the backward passes, so the message is reverse mode's.
    (With `nonfinite`, reverse mode: a tangent sweep would carry 0 * inf = nan from
    an operand off the input's paths into entries the backward pass gets finite.)"""
    with no_gc():
        outs, wrt, warnings = check(program, names, bindings, wrt)
        values = forward(outs.graph, bindings, nonfinite)
        if mode == "auto" and not nonfinite and use_forward(outs.graph, len(outs.names), wrt):
            try:
                jac = _forward_jacobian(outs, values, wrt, nonfinite)
            except CgraphError:
                jac = None
            if jac is not None:
                return Jacobian(outs, values, None, wrt, warnings, nonfinite, jac)
        return Jacobian(outs, values, backward_passes(outs, values, nonfinite), wrt, warnings, nonfinite)


def _forward_jacobian(outs, values, wrt, nonfinite):
    g = outs.graph
    jac: dict = {u: {x: 0.0 for x in wrt} for u in outs.names}
    for x in swept(g, wrt):
        t = tangent.tangents(g, values, {x: 1.0}, nonfinite)
        for u, o in zip(outs.names, outs.ids):
            jac[u][x] = _or0(t[o])
    return jac


def jacobian_columns(g, cones, ids, wrt, cols, size, mode="auto"):
    """The Jacobian over `size` rows: (every node's values, per output the array of
    each reported input's derivative (None: the output does not depend on it), the
    arrays whose non-finite entries make a row bad). Mode "auto" takes forward mode
    when `use_forward` (the local partials once, then a tangent sweep along each e_x:
    bad where a value, a partial of an operand that depends on an input, or a tangent
    is not finite), else reverse (bad where a value or any node's gradient is not:
    the same rows, but where only a product of finite partials overflows)."""
    import numpy as np

    from . import columns as batch
    if mode == "forward" or (mode == "auto" and use_forward(g, len(ids), wrt)):
        with np.errstate(all="ignore"):
            v = batch.forward(np, g, cols, size)
            parts, bad = tangent.column_partials(np, g, v, size)
            jac: list = [[None] * len(wrt) for _ in ids]
            checked = [np.where(bad, np.nan, 0.0)]  # (the callers test arrays for finiteness)
            for k, x in enumerate(wrt):
                if x not in g.inputs:
                    continue
                t = tangent.column_sweep(np, g, parts, x, size)
                checked += [a for a in t if a is not None]
                for r, o in enumerate(ids):
                    jac[r][k] = t[o]
        return v, jac, checked
    v, grads = columns(g, cones, cols, size)
    inputs = g.inputs
    jac = [[gu[inputs[x]] if x in inputs else None for x in wrt] for gu in grads]
    return v, jac, [a for gu in grads for a in gu]


def columns(g, cones, cols, size):
    """The column passes for several outputs over `size` rows: (every node's values,
    per output its gradients of each node of `g`, arrays or None), one forward pass over
    the shared tape `g` and a backward pass over each output's cone ((tape, ids in g),
    Outputs.cones; anything with the Graph's ops, args, attr and depends)."""
    import numpy as np

    from . import columns as batch
    with np.errstate(all="ignore"):
        v = batch.forward(np, g, cols, size)
        grads = []
        for sub, old in cones:
            sg = batch.backward(np, sub, [v[i] for i in old], size)
            gu: list = [None] * len(v)
            for j, i in enumerate(old):
                gu[i] = sg[j]
            grads.append(gu)
    return v, grads


def shared(program, outputs=None):
    """(tape, the program to check the bindings against, Outputs or None): the
    output's cone, or with several outputs their shared tape."""
    if not outputs or len(outputs) < 2:
        return program.cone()[0], program, None
    outs = Outputs(program, outputs)
    return outs.graph, outs.program, outs


def fields(outputs, wrt):
    """The record fields of several outputs: value_u per output, then grad_u_x per
    output and reported input, in that order. Two with one name (outputs a, a_b and
    inputs b_c, c: grad_a_b_c) are a usage error."""
    names = ["value_%s" % u for u in outputs] + ["grad_%s_%s" % (u, x) for u in outputs for x in wrt]
    seen: set = set()
    for f in names:
        if f in seen:
            raise UsageError("--output: two fields would both be named %s" % f,
                             hint="rename an output or an input so that no value_U or grad_U_X name is made twice")
        seen.add(f)
    return names
