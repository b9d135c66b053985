"""The update rules of `minimize --method` and `train --optimizer`, as pure
functions and small classes over lists of floats (gd, momentum, Adam) or numpy
arrays (Newton, L-BFGS and their line searches). Nothing here evaluates a
program, prints or stops a process: the caller (learn.py) hands in the point,
the gradient, the Hessian, or a function that evaluates a trial point.

- `Descent`: x = x - lr*v with v = momentum*v + g (plain gradient descent when
  momentum is 0, PyTorch's SGD(momentum=m, dampening=0) otherwise).
- `Adam`: Kingma and Ba's Algorithm 1 with beta1 0.9, beta2 0.999, eps 1e-8.
- `newton_direction`: the solution of (H + tau*I) p = -g, tau 0 when the Cholesky
  factorisation of H succeeds, else increased until it does (Nocedal and Wright,
  Algorithm 3.3), so p is always a descent direction; `backtrack`: the Armijo
  line search along it (the value never increases).
- `LBFGS`: the two-loop recursion over the last m pairs (s, y); `wolfe`: a line
  search for the strong Wolfe conditions (Nocedal and Wright, Algorithms 3.5 and
  3.6: bracketing, then zoom with safeguarded cubic interpolation).

A trial point the program cannot be evaluated at (a domain error) is given the
value inf by the caller: every line search treats it as too far and steps back.
"""

import math

from ..core.errors import UsageError

C1 = 1e-4  # sufficient decrease (Armijo) for both line searches
C2 = 0.9   # curvature, for the strong Wolfe conditions (L-BFGS)
METHODS = ("gd", "adam", "newton", "lbfgs")
OPTIMIZERS = ("sgd", "momentum", "adam")


class Descent:
    """Gradient descent with heavy-ball momentum: v = momentum*v + g; x = x - lr*v."""

    def __init__(self, n, lr, momentum=0.0):
        self.lr = lr
        self.momentum = momentum
        self.vel = [0.0] * n

    def step(self, x, grads):
        """Update the list `x` in place."""
        lr, m, vel = self.lr, self.momentum, self.vel
        for k, d in enumerate(grads):
            vel[k] = m * vel[k] + d
            x[k] -= lr * vel[k]


class Adam:
    """Adam (Kingma and Ba 2015, Algorithm 1): m = b1*m + (1-b1)*g,
    v = b2*v + (1-b2)*g^2, x = x - lr * m_hat / (sqrt(v_hat) + eps) with the bias
    corrections m_hat = m/(1-b1^t), v_hat = v/(1-b2^t) at step t (from 1)."""

    def __init__(self, n, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = [0.0] * n
        self.v = [0.0] * n
        self.t = 0

    def step(self, x, grads):
        """Update the list `x` in place."""
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        c1 = 1.0 - b1 ** self.t
        c2 = 1.0 - b2 ** self.t
        m, v = self.m, self.v
        for k, d in enumerate(grads):
            m[k] = b1 * m[k] + (1.0 - b1) * d
            v[k] = b2 * v[k] + (1.0 - b2) * d * d
            x[k] -= self.lr * (m[k] / c1) / (math.sqrt(v[k] / c2) + self.eps)


def method_options(method, lr, momentum, memory):
    """(lr, momentum, memory) with their defaults, and the options that do not
    apply to the method refused (usage errors)."""
    if method not in METHODS:
        raise UsageError("--method: %s is not one of %s" % (method, ", ".join(METHODS)))
    if momentum is not None and method != "gd":
        raise UsageError("--momentum applies only to --method gd (not %s)" % method)
    if lr is not None and method in ("newton", "lbfgs"):
        raise UsageError("--lr applies only to --method gd and adam: %s chooses its steps by a line search"
                         % method)
    if memory is not None and method != "lbfgs":
        raise UsageError("--memory applies only to --method lbfgs (not %s)" % method)
    return 0.1 if lr is None else lr, 0.0 if momentum is None else momentum, 10 if memory is None else memory


def optimizer_options(optimizer, momentum):
    """train's momentum with its default (0.9 for --optimizer momentum), refused
    with another optimizer (a usage error)."""
    if optimizer not in OPTIMIZERS:
        raise UsageError("--optimizer: %s is not one of %s" % (optimizer, ", ".join(OPTIMIZERS)))
    if momentum is not None and optimizer != "momentum":
        raise UsageError("--momentum applies only to --optimizer momentum (not %s)" % optimizer)
    return 0.9 if momentum is None else momentum



def rule(name, n, lr, momentum=0.0):
    """The step rule of a first-order method or optimizer by name (gd, sgd, momentum, adam)."""
    if name == "adam":
        return Adam(n, lr)
    return Descent(n, lr, momentum)


# ---- Newton -----------------------------------------------------------------------

def newton_direction(np, g, H):
    """(p, tau): the Newton direction p = -(H + tau*I)^-1 g with the smallest tau
    of 0, beta, 10*beta, ... (beta = 1e-3 * max(1, |largest diagonal entry|)) for
    which H + tau*I has a Cholesky factor (is positive definite), so g.p < 0.
    When H is not finite, or no tau up to 1e30*beta works: (-g, None)."""
    n = len(g)
    if not np.all(np.isfinite(H)):
        return -g, None
    diag = np.diag(H)
    beta = 1e-3 * max(1.0, float(np.max(np.abs(diag))))
    tau = 0.0 if float(np.min(diag)) > 0 else -float(np.min(diag)) + beta
    eye = np.eye(n)
    for _ in range(40):
        try:
            L = np.linalg.cholesky(H + tau * eye)
        except np.linalg.LinAlgError:
            tau = max(10.0 * tau, beta)
            continue
        p = -np.linalg.solve(L.T, np.linalg.solve(L, g))
        if np.all(np.isfinite(p)) and float(g @ p) < 0:
            return p, tau
        tau = max(10.0 * tau, beta)
    return -g, None


def backtrack(value_at, f0, slope, alpha=1.0, shrink_max=60):
    """The Armijo line search: the first alpha of alpha, then smaller ones (the
    minimiser of the quadratic through f0, slope and the last trial, kept within
    [0.1, 0.5] of the last alpha) with value_at(alpha) <= f0 + C1*alpha*slope
    (near a minimum, where rounding makes that f <= f0, a step may keep the value;
    it never raises it).
    `slope` (g.p) is negative. Returns (alpha, value), or None when 60 trials
    found none (the value cannot be lowered along p at this precision)."""
    for _ in range(shrink_max):
        f = value_at(alpha)
        if f <= f0 + C1 * alpha * slope:  # false for nan and inf
            return alpha, f
        den = 2.0 * (f - f0 - slope * alpha)
        if math.isfinite(f) and den > 0:
            alpha = min(max(-slope * alpha * alpha / den, 0.1 * alpha), 0.5 * alpha)
        else:
            alpha *= 0.1 if not math.isfinite(f) else 0.5
    return None


# ---- L-BFGS -----------------------------------------------------------------------

class LBFGS:
    """The limited-memory BFGS direction from the last `memory` pairs
    s = x_{k+1} - x_k, y = g_{k+1} - g_k (a pair with s.y <= 0 is not kept, so
    the implicit inverse Hessian stays positive definite), scaled by
    gamma = s.y / y.y of the newest pair (Nocedal and Wright, eq. 7.20)."""

    def __init__(self, memory=10):
        self.memory = memory
        self.pairs: list = []

    def update(self, np, s, y):
        sy = float(s @ y)
        if not (sy > 1e-300 and math.isfinite(sy)):
            return
        self.pairs.append((s, y, 1.0 / sy))
        if len(self.pairs) > self.memory:
            self.pairs.pop(0)

    def direction(self, np, g):
        """-H g by the two-loop recursion (Nocedal and Wright, Algorithm 7.4)."""
        q = np.array(g, dtype=float)
        alphas = []
        for s, y, rho in reversed(self.pairs):
            a = rho * float(s @ q)
            alphas.append(a)
            q -= a * y
        if self.pairs:
            s, y, _ = self.pairs[-1]
            q *= float(s @ y) / float(y @ y)
        for (s, y, rho), a in zip(self.pairs, reversed(alphas)):
            b = rho * float(y @ q)
            q += (a - b) * s
        return -q

    def reset(self):
        self.pairs = []


def wolfe(phi, f0, d0, alpha=1.0, amax=1e10, maxiter=25, maxzoom=40):
    """A step alpha > 0 satisfying the strong Wolfe conditions
    phi(alpha) <= f0 + C1*alpha*d0 and |phi'(alpha)| <= C2*|d0| (d0 = phi'(0) < 0),
    by Nocedal and Wright's Algorithm 3.5 (doubling the trial step until the
    minimum is bracketed) and 3.6 (zoom). `phi(alpha)` returns (value, slope,
    payload), value inf where the function is undefined. Returns (alpha, value,
    payload), or None when no step lowers the value. If zoom runs out of trials
    it returns the best step found that satisfies the sufficient decrease."""
    def zoom(lo, hi):
        # lo, hi: (alpha, value, slope, payload); lo satisfies sufficient decrease, has the lower value
        for _ in range(maxzoom):
            a = _cubic(lo, hi)
            f, d, pay = phi(a)
            if not (f <= f0 + C1 * a * d0) or f >= lo[1]:
                hi = (a, f, d, pay)
            else:
                if abs(d) <= -C2 * d0:
                    return a, f, pay
                if d * (hi[0] - lo[0]) >= 0:
                    hi = lo
                lo = (a, f, d, pay)
            if abs(hi[0] - lo[0]) <= 1e-16 * max(1.0, abs(lo[0])):
                break
        return (lo[0], lo[1], lo[3]) if lo[0] > 0 else None

    prev = (0.0, f0, d0, None)
    for i in range(maxiter):
        f, d, pay = phi(alpha)
        cur = (alpha, f, d, pay)
        if not (f <= f0 + C1 * alpha * d0) or (i > 0 and f >= prev[1]):
            return zoom(prev, cur)
        if abs(d) <= -C2 * d0:
            return alpha, f, pay
        if d >= 0:
            return zoom(cur, prev)
        prev = cur
        alpha = min(2.0 * alpha, amax)
    return prev[0], prev[1], prev[3]


def _cubic(lo, hi):
    """The minimiser of the cubic through both ends' values and slopes
    (Nocedal and Wright, eq. 3.59), kept at least a tenth of the interval from
    either end; the midpoint when the cubic has none or an end is not finite."""
    a, fa, da = lo[0], lo[1], lo[2]
    b, fb, db = hi[0], hi[1], hi[2]
    mid = 0.5 * (a + b)
    if not all(map(math.isfinite, (fa, da, fb, db))) or a == b:
        return mid
    d1 = da + db - 3.0 * (fa - fb) / (a - b)
    rad = d1 * d1 - da * db
    if rad < 0:
        return mid
    d2 = math.copysign(math.sqrt(rad), b - a)
    den = db - da + 2.0 * d2
    if den == 0:
        return mid
    t = b - (b - a) * (db + d2 - d1) / den
    lo_, hi_ = min(a, b), max(a, b)
    w = hi_ - lo_
    if not (math.isfinite(t) and lo_ + 0.1 * w <= t <= hi_ - 0.1 * w):
        return mid
    return t


# ---- one step of a line-search method ------------------------------------------------

def newton_step(np, x, f, g, H, value_at):
    """One damped Newton step from x (value f, gradient g, Hessian H, numpy arrays):
    (new x, its value), or None when the line search finds no lower value.
    `value_at(x)` is the value at a trial point, inf where it is undefined; the
    accepted point is the last one it was called at."""
    p, _ = newton_direction(np, g, H)
    r = backtrack(lambda a: value_at(x + a * p), f, float(g @ p))
    if r is None:
        return None
    return x + r[0] * p, r[1]


class LBFGSMethod:
    """L-BFGS steps with the strong Wolfe line search. The first step (and the
    first after a reset) tries alpha = min(1, 1/|g|), the later ones alpha = 1."""

    def __init__(self, memory=10):
        self.mem = LBFGS(memory)

    def step(self, np, x, f, g, value_grad):
        """(new x, value, gradient) or None when no step lowers the value.
        `value_grad(x)` is (value, gradient array), or (inf, None) where either is
        undefined."""
        for attempt in range(2):
            p = self.mem.direction(np, g)
            slope = float(g @ p)
            if not slope < 0 or attempt:  # not a descent direction (rounding), or a retry
                self.mem.reset()
                p = -g
                slope = -float(g @ g)
            alpha = 1.0 if self.mem.pairs else min(1.0, 1.0 / math.sqrt(-slope))

            def phi(a, p=p):
                xn = x + a * p
                fn, gn = value_grad(xn)
                return fn, (float(gn @ p) if gn is not None else math.nan), (xn, gn)

            r = wolfe(phi, f, slope, alpha)
            if r is not None:
                xn, gn = r[2]
                self.mem.update(np, xn - x, gn - g)
                return xn, r[1], gn
            if not self.mem.pairs:
                return None
        return None
