"""The program as a function of the parameters, for minimize's line-search
methods: values, gradients and the exact Hessian, counted; and one Newton or
L-BFGS step (the rules are in optimizers.py)."""

import math

from ..core.errors import CgraphError
from ..core.passes import backward, forward
from . import optimizers


def search_step(np, obj, searcher, x, value, grads, step):
    """One Newton or L-BFGS step from x (updated in place): (value, gradients)
    at the new point, or None when the line search finds no lower value."""
    xa, ga = np.array(x), np.array(grads)
    if searcher is None:
        r = optimizers.newton_step(np, xa, value, ga, obj.hessian(np, x), obj.trial_value)
        if r is None:
            return None
        xn, fn = r
        try:
            gn = obj.gradient()  # at the accepted point: the last one tried
        except CgraphError as e:
            raise CgraphError("step %d: %s" % (step + 1, e.reason), e.status) from None
    else:
        r = searcher.step(np, xa, value, ga, obj.trial_value_grad)
        if r is None:
            return None
        xn, fn, gn = r
        gn = gn.tolist()
    x[:] = xn.tolist()
    return fn, list(gn)


class Objective:
    """The program as a function of the parameters' list: value (a forward pass),
    gradient (the backward pass of the last forward one) and, for newton, the
    Hessian (a forward pass of the second-derivative graph, built once), each
    counted in `counts`. The trial_* forms give inf where a trial point is
    undefined (a domain error), for the line searches."""

    def __init__(self, program, g, bindings, params, second=False, passes=(forward, backward)):
        self.forward, self.backward = passes  # the scalar passes (learn.py hands in the ones it imported)
        self.g = g
        self.b = dict(bindings)
        self.params = params
        self.ids = [g.inputs.get(p) for p in params]
        self.counts = {"value": 0, "gradient": 0}
        self.v = None
        self.second = None
        if second:
            from .derive import hessian_graph, hessian_pairs
            self.second = hessian_graph(program, params), hessian_pairs(params)
            self.counts["hessian"] = 0

    def value(self, x):
        self.b.update(zip(self.params, (float(t) for t in x)))
        self.v = None
        self.counts["value"] += 1
        self.v = self.forward(self.g, self.b)
        return self.v[-1]

    def gradient(self):
        self.counts["gradient"] += 1
        gr = self.backward(self.g, self.v)
        return [0.0 if i is None else gr[i] for i in self.ids]

    def trial_value(self, x):
        try:
            return self.value(x)
        except CgraphError:
            return math.inf

    def trial_value_grad(self, x):
        import numpy as np
        try:
            f = self.value(x)
            return f, np.array(self.gradient())
        except CgraphError:
            return math.inf, None

    def hessian(self, np, x):
        """The Hessian at x (nan where a second derivative is undefined)."""
        (h, outs), pairs = self.second
        self.counts["hessian"] += 1
        n = len(self.params)
        H = np.zeros((n, n))
        if h is None:
            return H
        self.b.update(zip(self.params, (float(t) for t in x)))
        v = forward(h, self.b, True)
        index = {p: k for k, p in enumerate(self.params)}
        for (a, c), o in zip(pairs, outs):
            H[index[a], index[c]] = H[index[c], index[a]] = v[o]
        return H
