"""Levenberg–Marquardt for nonlinear least squares, as MINPACK's lmder does it.

Minimise ||f(x)||^2 for residuals f: R^n -> R^m with the exact Jacobian J. The
method is Moré's ("The Levenberg-Marquardt algorithm: implementation and theory",
1978), the one lmder implements:

- the parameters are scaled by D, the norms of the Jacobian's columns (each the
  largest seen so far), so that a parameter of 1e-4 and one of 1e6 move alike;
- each step solves the damped problem min ||J p + f||^2 + par ||D p||^2 with par
  chosen (by Moré's safeguarded Newton iteration, at most 10 tries) so that the
  scaled step ||D p|| is within 10% of the trust radius Delta, or par = 0 when the
  Gauss-Newton step is already inside it;
- the damped problem is solved from the singular value decomposition of J D^-1
  (once per Jacobian; every par after that costs O(n^2)), never by forming J^T J,
  which would square the condition number;
- Delta grows when the actual reduction of the sum of squares matches the
  predicted one (ratio >= 0.75) and shrinks when it does not (ratio <= 0.25); a
  step is taken when ratio >= 1e-4.

It stops on the first of: the relative reductions (actual and predicted) of the
sum of squares at most `ftol`; the trust radius at most `xtol` times ||D x|| (the
relative change of the parameters); the gradient's largest cosine with the
residuals at most `gtol`; `max_iter` Jacobians; or a tolerance below what double
precision can resolve (no further reduction possible). Pure numpy, no printing.
"""

import math

EPS = 2.220446049250313e-16  # double precision
SQRT_EPS = 1.4901161193847656e-08
DWARF = 2.2250738585072014e-308  # the smallest positive normal double
FACTOR = 1.0  # the first trust radius: FACTOR * ||D x0|| (MINPACK allows 0.1 to 100; see docs/fit.md)

# why it stopped: (converged, the reason in words)
FTOL, XTOL, BOTH, GTOL, MAXITER, FTOL_EPS, XTOL_EPS, GTOL_EPS = range(1, 9)


def reason_text(info, ftol, xtol, gtol, max_iter):
    """The stopping rule `info` in words."""
    g = "%g" % ftol, "%g" % xtol, "%g" % gtol
    return {
        FTOL: "the relative reduction of the sum of squares is at most --ftol %s" % g[0],
        XTOL: "the relative change of the parameters is at most --xtol %s" % g[1],
        BOTH: "the relative reduction of the sum of squares is at most --ftol %s and the relative "
              "change of the parameters at most --xtol %s" % g[:2],
        GTOL: "the gradient is orthogonal to the residuals within --gtol %s" % g[2],
        MAXITER: "reached --max-iter %d" % max_iter,
        FTOL_EPS: "no further reduction of the sum of squares is possible in double precision",
        XTOL_EPS: "no further change of the parameters is possible in double precision",
        GTOL_EPS: "the gradient is orthogonal to the residuals to double precision",
    }[info]


class Solution:
    """Where lm stopped: the parameters `x`, the residuals `f` there, `info` (one
    of FTOL ... GTOL_EPS), `converged` (every info but MAXITER), the iterations
    (Jacobians evaluated), `nfev` residual evaluations and `njev` Jacobians."""

    def __init__(self, x, f, info, iterations, nfev, njev):
        self.x, self.f, self.info = x, f, info
        self.converged = info != MAXITER
        self.iterations, self.nfev, self.njev = iterations, nfev, njev


def _damped(np, s, c, par):
    """The scaled step q = -(S^2 + par)^-1 S c in the singular basis (q's norm is
    ||D p||) and its derivative's sum S3 = sum s^2 c^2 / (s^2 + par)^3."""
    d = s * s + par
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(d > 0, -s * c / d, 0.0)
        s3 = float(np.sum(np.where(d > 0, (s * c) ** 2 / d ** 3, 0.0)))
    return q, s3


def lmpar(np, s, c, delta, par, rank):
    """Moré's choice of the Levenberg–Marquardt parameter for the scaled problem
    with singular values `s` and c = U^T f: par = 0 if the Gauss-Newton step is
    within 1.1 * delta, else par with | ||q(par)|| - delta | <= 0.1 delta (at most
    10 iterations of the safeguarded Newton method on ||q(par)|| - delta).
    Returns (par, q in the singular basis)."""
    sr = np.where(np.arange(len(s)) < rank, s, 0.0)  # the Gauss-Newton step: the numerical rank's pseudo-inverse
    q, s3 = _damped(np, sr, c, 0.0)
    dxnorm = float(np.linalg.norm(q))
    fp = dxnorm - delta
    if fp <= 0.1 * delta:
        return 0.0, q
    # the lower bound: the Newton step at 0 when J is of full rank (phi is convex)
    parl = dxnorm * dxnorm * fp / (delta * s3) if rank == len(s) and delta * s3 > 0 else 0.0
    gnorm = float(np.linalg.norm(s * c))  # ||(J D^-1)^T f||
    paru = gnorm / delta
    if paru == 0.0:
        paru = DWARF / min(delta, 0.1)
    par = min(max(par, parl), paru)
    if par == 0.0:
        par = gnorm / dxnorm
    for it in range(10):
        if par == 0.0:
            par = max(DWARF, 0.001 * paru)
        q, s3 = _damped(np, s, c, par)
        dxnorm = float(np.linalg.norm(q))
        temp, fp = fp, dxnorm - delta
        if abs(fp) <= 0.1 * delta or (parl == 0.0 and fp <= temp < 0.0) or it == 9 or not delta * s3 > 0.0:
            break
        parc = dxnorm * dxnorm * fp / (delta * s3)
        if fp > 0.0:
            parl = max(parl, par)
        elif fp < 0.0:
            paru = min(paru, par)
        par = max(parl, par + parc)
    return par, q


def lm(np, residuals, jacobian, x0, ftol=1e-15, xtol=1e-12, gtol=0.0, max_iter=1000):
    """Minimise ||residuals(x)||^2 from x0. `residuals(x)` returns the m residuals
    (an array with inf or nan where they are not finite: such a step is refused
    and the trust region shrinks); `jacobian(x)` the m-by-n Jacobian at x, the
    point of the last call of `residuals` that was accepted. Returns a Solution."""
    x = np.array(x0, dtype=float)
    n = len(x)
    f = residuals(x)
    nfev, njev = 1, 0
    fnorm = float(np.linalg.norm(f))
    diag = None
    delta = xnorm = par = 0.0
    info = 0
    iterations = 0
    while True:
        if iterations >= max_iter:
            info = MAXITER
            break
        J = jacobian(x)
        njev += 1
        iterations += 1
        cnorm = np.linalg.norm(J, axis=0)
        if diag is None:
            diag = np.where(cnorm > 0, cnorm, 1.0)
            xnorm = float(np.linalg.norm(diag * x))
            # a start that is zero at the residuals' scale (x0 = 0, or 1e-99) starts
            # from the residuals' size instead: D x is in the residuals' units
            delta = FACTOR * (xnorm if xnorm > SQRT_EPS * fnorm else fnorm) or FACTOR
        else:
            diag = np.maximum(diag, cnorm)
        # the scaled gradient's largest cosine with the residuals
        gnorm = 0.0
        if fnorm > 0:
            jtf = J.T @ f
            with np.errstate(divide="ignore", invalid="ignore"):
                cos = np.where(cnorm > 0, np.abs(jtf) / (cnorm * fnorm), 0.0)
            gnorm = float(np.max(cos)) if n else 0.0
        if gnorm <= gtol:
            info = GTOL
            break
        U, s, Vt = np.linalg.svd(J / diag, full_matrices=False)
        c = U.T @ f
        rank = int(np.sum(s > s[0] * max(J.shape) * EPS)) if len(s) and s[0] > 0 else 0
        # what the full Gauss-Newton step would gain, relatively: the ftol tests
        # need it small too, or a tiny trust radius (a start of 1e-99) passes them
        gain = float(np.sum(c[:rank] ** 2)) / (fnorm * fnorm) if fnorm > 0 else 0.0
        flat = gain <= max(ftol, SQRT_EPS)
        while True:  # until a step reduces the sum of squares (ratio >= 1e-4) or a test stops
            par, qs = lmpar(np, s, c, delta, par, rank)
            q = Vt.T @ qs  # the scaled step D p
            p = q / diag
            pnorm = float(np.linalg.norm(q))
            if iterations == 1:
                delta = min(delta, pnorm)
            x1 = x + p
            f1 = residuals(x1)
            nfev += 1
            fnorm1 = float(np.linalg.norm(f1))
            if not math.isfinite(fnorm1):
                fnorm1 = math.inf
            actred = 1.0 - (fnorm1 / fnorm) ** 2 if 0.1 * fnorm1 < fnorm else -1.0
            if fnorm > 0:
                jp = float(np.linalg.norm(s * qs))  # ||J p|| = ||S V^T q||
                temp1 = jp / fnorm
                temp2 = math.sqrt(par) * pnorm / fnorm
            else:
                temp1 = temp2 = 0.0
            prered = temp1 * temp1 + temp2 * temp2 / 0.5
            dirder = -(temp1 * temp1 + temp2 * temp2)
            ratio = actred / prered if prered != 0 else 0.0
            if ratio <= 0.25:
                if actred >= 0:
                    temp = 0.5
                else:
                    temp = 0.5 * dirder / (dirder + 0.5 * actred)
                if 0.1 * fnorm1 >= fnorm or temp < 0.1:
                    temp = 0.1
                delta = temp * min(delta, pnorm / 0.1)
                par = par / temp
            elif par == 0.0 or ratio >= 0.75:
                delta = pnorm / 0.5
                par = 0.5 * par
            if ratio >= 1e-4:  # the step is taken
                x, f, fnorm = x1, f1, fnorm1
                xnorm = float(np.linalg.norm(diag * x))
            if abs(actred) <= ftol and prered <= ftol and 0.5 * ratio <= 1 and flat:
                info = FTOL
            if delta <= xtol * xnorm:
                info = BOTH if info == FTOL else XTOL
            if info:
                break
            if abs(actred) <= EPS and prered <= EPS and 0.5 * ratio <= 1 and flat:
                info = FTOL_EPS
            elif delta <= EPS * xnorm:
                info = XTOL_EPS
            elif gnorm <= EPS:
                info = GTOL_EPS
            if info:
                break
            if ratio >= 1e-4:
                break
        if info:
            break
    return Solution(x, f, info, iterations, nfev, njev)
