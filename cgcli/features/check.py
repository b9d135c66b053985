"""`cgraph check`: the backward pass's gradients against finite differences.

For each reported input x the output is evaluated again (forward only) at
x ± h with h = eps * max(1, |x|), and the central difference
(f(x+h) - f(x-h)) / (2h) is compared with the gradient from the backward
pass. The relative error is

    |grad - fd| / max(|grad|, |fd|, floor / rtol)

where floor is the larger of --atol and an estimate of the rounding noise of
the difference (about 10 * 2.2e-16 * |f| / h): gradients near 0 are compared
absolutely, and an output much larger than its gradient widens the tolerance
(and says so) instead of failing on noise. An input fails when its relative
error exceeds rtol.

Where the central difference cannot be trusted, the check says why:

- a domain edge: f is undefined (a domain error) at x - h or x + h. The
  difference is taken on the other side, with the second-order one-sided
  formula (-3 f(x) + 4 f(x + h/2) - f(x + h)) / h, and compared as usual.
- a kink: a relu/abs argument changes sign, or a min/max changes which
  argument wins, within [x - h, x + h]. If x is beside the kink, the one-sided
  difference on x's side is used. If x is at the kink (the argument is exactly 0
  or the arguments tie), the derivative there is a convention (PyTorch's):
  when the central difference agrees with it the input passes, otherwise its
  status is "kink" with the left and right derivatives shown. A kink is not a
  failure (the backward pass did what it promises); `--strict` makes it one.
- "unchecked": no difference can be formed (undefined on both sides, or a
  non-finite gradient under --nonfinite). Not a failure unless --strict.

Only forward passes are repeated, each one loop up the tape.
"""

import math

from ..core.errors import CgraphError

OK, FAIL, KINK, UNCHECKED = "ok", "fail", "kink", "unchecked"
EPS, RTOL, ATOL = 1e-6, 1e-5, 1e-8
MIN_EPS = 1e-15  # below it, x + h rounds to x for |x| >= 1 (2.2e-16 is the spacing of doubles at 1)
_ROUND = 2.220446049250313e-16
_KINKS = ("relu", "abs", "min", "max")


class InputCheck:
    """The outcome for one input. `fd` is None when no difference could be formed."""

    def __init__(self, name, value, grad):
        self.name = name
        self.value = value
        self.grad = grad
        self.fd = None
        self.h = None
        self.method = None  # "central", "forward", "backward" (one-sided) or None
        self.rel_error = None
        self.tolerance = None  # the absolute floor used (max of --atol and the noise estimate)
        self.status = UNCHECKED
        self.notes = []
        self.left = self.right = None  # one-sided derivatives at a kink

    def json(self):
        from ..core.numbers import json_number

        def num(x):
            return None if x is None else json_number(x)

        return {"name": self.name, "value": num(self.value), "grad": num(self.grad), "fd": num(self.fd),
                "rel_error": num(self.rel_error), "status": self.status, "method": self.method,
                "h": num(self.h), "left": num(self.left), "right": num(self.right), "notes": self.notes}


class CheckResult:
    def __init__(self, result, checks, eps, rtol, atol):
        self.result = result
        self.checks = checks
        self.eps, self.rtol, self.atol = eps, rtol, atol

    @property
    def failed(self):
        return [c.name for c in self.checks if c.status == FAIL]

    @property
    def unverified(self):
        return [c for c in self.checks if c.status in (KINK, UNCHECKED)]

    def notices(self):
        """Warnings for the user: nothing to check, or inputs that could not be verified."""
        out = [] if self.checks else ["nothing to check: the output depends on no input"]
        out += ["%s is not verified (%s): %s" % (c.name, c.status, "; ".join(c.notes)) for c in self.unverified]
        return out

    def failure(self, strict=False):
        """The CgraphError to stop with when a gradient disagrees (with `strict`, also
        when an input cannot be verified), else None."""
        bad = self.failed + ([c.name for c in self.unverified] if strict else [])
        if not bad:
            return None
        return CgraphError("gradient check failed for %s (%s)" % (
            ", ".join(bad), "; ".join(self._why(c) for c in self.checks if c.name in bad)))

    def _why(self, c):
        if c.status == FAIL:
            return "%s: backward pass %s, finite difference %s, relative error %.1e > rtol %g" % (
                c.name, _fmt(c.grad), _fmt(c.fd), c.rel_error, self.rtol)
        return "%s: %s, not verified, with --strict" % (c.name, c.status)

    def json_obj(self, strict=False):
        from ..core.numbers import json_number
        r = self.result
        return {
            "output": r.output_name,
            "value": json_number(r.value),
            "gradients": {k: json_number(v) for k, v in r.gradients.items()},
            "eps": self.eps, "rtol": self.rtol, "atol": self.atol,
            "ok": not self.failed and not (strict and self.unverified),
            "failed": self.failed,
            "inputs": [c.json() for c in self.checks],
        }


def check(program, bindings, wrt=None, eps=None, rtol=RTOL, atol=ATOL, nonfinite=False):
    """Evaluate `program` at `bindings` and check each reported input's gradient.

    `eps` None: the step is EPS's, made smaller where the output varies too fast
    for it (Checker.refine); a given `eps` is used as it is."""
    from ..core.passes import evaluate
    chosen = eps is None
    if chosen:
        eps = EPS
    if not eps > 0 or not rtol > 0 or not atol >= 0 or not all(map(math.isfinite, (eps, rtol, atol))):
        raise CgraphError("eps and rtol must be positive and atol not negative", 2)
    if eps < MIN_EPS or eps > 1:
        raise CgraphError("eps %s is outside [%g, 1]: a smaller step is lost in rounding" % (_fmt(eps), MIN_EPS), 2)
    result = evaluate(program, bindings, wrt=wrt, nonfinite=nonfinite)
    g = result.graph
    checker = _Checker(g, result, bindings, eps, rtol, atol)
    checker.refining = chosen
    checks = [checker.run(name) for name in result.gradients]
    return CheckResult(result, checks, eps, rtol, atol)


class _Checker:
    def __init__(self, g, result, bindings, eps, rtol, atol):
        self.g = g
        self.result = result
        self.bindings = dict(bindings)
        self.eps, self.rtol, self.atol = eps, rtol, atol
        self.kinks = [i for i, op in enumerate(g.ops) if op in _KINKS]
        self.refining = True  # whether a central difference too coarse for f may be retried smaller
        self._texts = None

    def texts(self):
        if self._texts is None:
            self._texts = self.g.exprs()
        return self._texts

    # one forward pass at a perturbed point: (value, kink signature) or (None, reason)
    def at(self, name, x):
        from ..core.passes import forward
        b = dict(self.bindings)
        b[name] = x
        try:
            v = forward(self.g, b)
        except CgraphError as e:
            return None, e.reason  # quoted in a note: the --nonfinite hint would not fit there
        return v, None

    def signature(self, v):
        g = self.g
        sig = []
        for k in self.kinks:
            args = g.args[k]
            if g.ops[k] in ("relu", "abs"):
                a = v[args[0]]
                sig.append((a > 0) - (a < 0))
            else:
                sig.append(tuple(j for j, a in enumerate(args) if v[a] == v[k]))
        return sig

    def degenerate(self, v, pos):
        """Is kink node number `pos` exactly at its kink (argument 0, or a tie)?"""
        k = self.kinks[pos]
        g = self.g
        if g.ops[k] in ("relu", "abs"):
            return v[g.args[k][0]] == 0
        return sum(1 for a in g.args[k] if v[a] == v[k]) > 1

    def describe(self, v, pos):
        k = self.kinks[pos]
        g = self.g
        t = self.texts()
        args = g.args[k]
        if g.ops[k] in ("relu", "abs"):
            a = args[0]
            return "%s at %s = %s" % (t[k], t[a], _fmt(v[a] + 0.0))
        tied = [a for a in dict.fromkeys(args) if v[a] == v[k]]
        if len(tied) > 1:
            return "%s with a tie (%s = %s)" % (t[k], " = ".join(t[a] for a in tied), _fmt(v[k]))
        return t[k]

    def run(self, name):
        res = self.result
        g = self.g
        c = InputCheck(name, self.bindings.get(name), res.gradients[name])
        if name not in g.inputs:  # --wrt an input the output does not read: the gradient is 0
            c.fd, c.method, c.rel_error, c.status = 0.0, "central", 0.0, OK
            c.notes.append("the output does not depend on %s" % name)
            return c
        x = float(self.bindings[name])
        if not (math.isfinite(x) and math.isfinite(c.grad)):
            c.notes.append("not finite: %s = %s, gradient %s" % (name, _fmt(x), _fmt(c.grad)))
            return c
        f0 = res.value
        v0 = res.values
        s0 = self.signature(v0)
        h = self.eps * max(1.0, abs(x))
        c.h = h
        xp, xm = x + h, x - h
        vp, why_p = self.at(name, xp)
        vm, why_m = self.at(name, xm)
        fp = vp[-1] if vp is not None else None
        fm = vm[-1] if vm is not None else None
        sp = self.signature(vp) if vp is not None else None
        sm = self.signature(vm) if vm is not None else None
        crossed = [p for p in range(len(self.kinks))
                   if (sp is not None and sp[p] != s0[p]) or (sm is not None and sm[p] != s0[p])]
        at_kink = [p for p in crossed if self.degenerate(v0, p)]
        good_p = vp is not None and sp == s0
        good_m = vm is not None and sm == s0
        central = (fp - fm) / (xp - xm) if vp is not None and vm is not None and xp != xm else None

        if at_kink:
            where = "; ".join(self.describe(v0, p) for p in at_kink)
            # left and right derivatives, each from its own side
            c.left = self.one_sided(name, x, -h, f0, fm)
            c.right = self.one_sided(name, x, h, f0, fp)
            if central is not None and self.compare(c, central, "central", [f0, fp, fm], h):
                c.notes.append("at a kink, %s: the central difference agrees with the backward "
                               "pass's convention" % where)
                return c
            c.status = KINK
            sides = "%s (left) and %s (right)" % (
                _fmt(c.left) if c.left is not None else "undefined",
                _fmt(c.right) if c.right is not None else "undefined")
            if c.left is not None and c.right is not None:
                lo, hi = min(c.left, c.right), max(c.left, c.right)
                tol = self.rtol * max(abs(lo), abs(hi), abs(c.grad)) + max(self.atol, c.tolerance or 0)
                if not lo - tol <= c.grad <= hi + tol:
                    c.status = FAIL
                    c.notes.append("at a kink, %s: the backward pass gives %s, outside the one-sided "
                                   "derivatives %s; a convention at a kink should lie between them"
                                   % (where, _fmt(c.grad), sides))
                    return c
            c.notes.append("at a kink, %s: the derivative there is a convention (PyTorch's); the "
                           "backward pass gives %s, the one-sided derivatives are %s" % (
                               where, _fmt(c.grad), sides))
            return c

        if good_p and good_m and central is not None:
            if not self.compare(c, central, "central", [f0, fp, fm], h) and self.refining:
                self.refine(c, name, x, h, s0, f0, central)
            return c

        # one side is off limits: say why, and use the other
        for side, good, why, s in ((-1, good_m, why_m, sm), (1, good_p, why_p, sp)):
            if good:
                continue
            point = "%s %s h = %s" % (name, "-" if side < 0 else "+", _fmt(x + side * h))
            if why is not None:
                c.notes.append("domain edge: the output is undefined at %s (%s)" % (point, why))
            else:
                ps = [p for p in crossed if s is not None and s[p] != s0[p]]
                c.notes.append("kink nearby: %s changes branch between %s and %s" % (
                    "; ".join(self.describe(v0, p) for p in ps), name, point))
        # a smaller step: the first of h/10, h/100, ... with both sides usable
        # tells roughly how far the edge or kink is; a thousandth of that keeps
        # the difference accurate where the function curves fast (sqrt, log near 0)
        scale = max(1.0, abs(x))
        for k in range(1, 7):
            hk = h / 10 ** k
            pair = self.pair(name, x, hk, s0)
            if pair is None:
                continue
            h2 = max(hk / 1000, 1e-13 * scale)
            pair2 = self.pair(name, x, h2, s0)
            if pair2 is not None:
                hk, pair = h2, pair2
            c.h = hk
            c.notes.append("used a smaller step, h = %s" % _fmt_short(hk))
            (fm2, fp2), denom = pair
            self.compare(c, (fp2 - fm2) / denom, "central", [f0, fp2, fm2], hk)
            return c
        # x is at the edge itself: one side only
        for side, good, f1 in ((1, good_p, fp), (-1, good_m, fm)):
            if good:
                d = self.one_sided(name, x, side * h, f0, f1, s0)
                if d is not None:
                    c.notes.append("%s is at the edge: used the one-sided difference on the %s" % (
                        name, "right" if side > 0 else "left"))
                    if not self.compare(c, d, "forward" if side > 0 else "backward", [f0, f1], h,
                                        one_sided=True):
                        c.status = UNCHECKED
                        c.notes.append("it does not match, but a one-sided difference at the edge of "
                                       "the domain is not reliable: not verified")
                    return c
        c.status = UNCHECKED
        c.notes.append("no finite difference can be formed here")
        return c

    def refine(self, c, name, x, h, s0, f0, central):
        """The central difference at h disagrees with the gradient: is the step too
        coarse for how fast f varies (sin(1e6*x))? If the difference at h/2 agrees
        with the one at h, the failure stands. Otherwise smaller steps are tried;
        the first that agrees with the gradient passes it, and if none does the
        input is "unchecked" (not verified) rather than failed."""
        half = self.pair(name, x, h / 2, s0)
        if half is None:
            return
        (fm2, fp2), denom = half
        d2 = (fp2 - fm2) / denom
        noise = 10.0 * _ROUND * max(abs(f0), abs(fm2), abs(fp2)) / (h / 2)
        if abs(central - d2) <= 0.5 * self.rtol * max(abs(central), abs(d2)) + max(self.atol, noise):
            return  # the two steps agree with each other, not with the gradient: a failure
        notes = list(c.notes)
        why = ("the differences at h = %s and h/2 disagree (%s and %s): the step is too coarse for how fast "
               "the output varies" % (_fmt_short(h), _fmt(central), _fmt(d2)))
        for k in range(1, 5):
            hk = h / 10 ** k
            pair = self.pair(name, x, hk, s0)
            if pair is None:
                continue
            (fmk, fpk), dk = pair
            c.notes = list(notes)
            if self.compare(c, (fpk - fmk) / dk, "central", [f0, fpk, fmk], hk):
                c.h = hk
                c.notes.append("%s; used a smaller step, h = %s" % (why, _fmt_short(hk)))
                return
        c.notes = notes + [why + "; no smaller step agrees with the backward pass either: not verified"]
        c.status = UNCHECKED

    def pair(self, name, x, h, s0):
        """((f(x-h), f(x+h)), (x+h) - (x-h)) if both are defined and on x's branch, else None."""
        xm, xp = x - h, x + h
        if xp == xm:
            return None
        vm, _ = self.at(name, xm)
        if vm is None or self.signature(vm) != s0:
            return None
        vp, _ = self.at(name, xp)
        if vp is None or self.signature(vp) != s0:
            return None
        return (vm[-1], vp[-1]), xp - xm

    def one_sided(self, name, x, step, f0, f1, s0=None):
        """(-3 f(x) + 4 f(x + step/2) - f(x + step)) / step, second order; None if
        f is undefined at x + step/2 (or, given s0, on another branch there)."""
        if f1 is None:
            return None
        full = (x + step) - x
        vh, _ = self.at(name, x + full / 2)
        if vh is None or (s0 is not None and self.signature(vh) != s0):
            return None
        return (-3.0 * f0 + 4.0 * vh[-1] - f1) / full + 0.0  # no -0

    def compare(self, c, fd, method, fs, h, one_sided=False):
        """Fill in fd, the relative error and the status; True if it passes."""
        scale = max(abs(f) for f in fs)
        noise = (80.0 if one_sided else 10.0) * _ROUND * scale / h
        floor = max(self.atol, noise)
        c.fd, c.method = fd, method
        if not math.isfinite(fd):
            c.status = UNCHECKED
            c.notes.append("the finite difference is not finite (%s)" % _fmt(fd))
            return False
        d = abs(c.grad - fd)
        denom = max(abs(c.grad), abs(fd), floor / self.rtol)
        c.rel_error = d / denom if denom > 0 else 0.0
        c.tolerance = floor
        c.status = OK if c.rel_error <= self.rtol else FAIL
        if noise > self.atol and noise > self.rtol * max(abs(c.grad), abs(fd)):
            c.notes.append("finite differences are imprecise here: rounding in the output (about %s) "
                           "over a step of %s blurs them by about ±%s, so they were compared to within "
                           "that" % (_fmt_short(scale), _fmt_short(h), _fmt_short(noise)))
        return c.status == OK


def _fmt(x):
    from ..core.numbers import fmt
    return fmt(x)


def _fmt_short(x):
    return format(x, ".3g")
