"""`explain --format latex`: both passes as one `aligned` block, as a lecture writes them.

    p &= x + y = 1 + 3 = 4
    \\frac{dg}{dp} &= \\frac{dg}{dg} \\, \\frac{\\partial g}{\\partial p} = 1 \\cdot (-3) = -3
    &\\qquad \\text{where } \\frac{\\partial g}{\\partial p} = z = -3

Written from the steps' data and the graph (the node's operation and operands),
with features/latex.py's writer, names and rule formulas; the numbers are the
exact ones (shortest round trip) that `--format plain` shows. One loop over the
steps; no recursion.
"""

from ..core.primitives import P_ATOM
from ..features.latex import Names, local_formula, number, number_operand, wrap, write


def show_latex(ex, out, standalone=False, digits=None):
    """Write the explanation `ex` (features/explain.py) as LaTeX to `out`; `digits`:
    the numbers to that many significant digits (None: exact)."""

    def _num(x):
        return number(float(x), digits)  # a JSON number, or "inf", "-inf", "nan"

    g = ex.result.graph
    names = ex.names
    tex = Names([n for n in names if n is not None])
    values = ex.result.values

    def operand(a):
        return tex.operand(names[a]) if names[a] is not None else number_operand(values[a], digits, True)

    def total(of, by):
        return r"\frac{d %s}{d %s}" % (tex(of), tex(by))

    def local(u, i):
        return r"\frac{\partial %s}{\partial %s}" % (tex(names[u]), tex(names[i]))

    rows = []
    gaps = set()  # rows after which a section ends
    section = None
    labels = getattr(ex, "labels", None)
    for step in ex.iter_steps():
        d = step.data
        key = (d["pass"], d.get("output"))
        if key != section:
            if section is not None:
                gaps.add(len(rows) - 1)
            section = key
            if d["pass"] == "forward":
                rows.append(r"&\text{Forward pass}")
            elif d.get("output") is None:
                rows.append(r"&\text{Backward pass}")
            else:
                rows.append(r"&\text{Backward pass for } " + tex(d["output"]))
        i = d["id"]
        if d["pass"] == "forward":
            value = _num(d["value"])
            if not d["inputs"]:
                rows.append("%s &= %s" % (tex(names[i]), value))
                continue
            args = g.args[i]
            formula = write(g.ops[i], [operand(a) for a in args])[0]
            numbers = write(g.ops[i], [number_operand(values[a], digits) for a in args])[0]
            line = "%s &= %s" % (tex(names[i]), formula)
            if numbers not in (formula, value):
                line += " = " + numbers
            rows.append(line + " = " + value)
            continue
        out_label = labels[d["output"]] if labels and d.get("output") is not None else ex.output_label
        grad = _num(d["grad"])
        terms = d["terms"]
        if not terms:
            rows.append("%s &= %s" % (total(out_label, names[i]), grad))
            continue
        chain = " + ".join(r"%s \, %s" % (total(out_label, t["via_name"]), local(t["via"], i)) for t in terms)
        prods = []
        for k, t in enumerate(terms):
            up, lo = number_operand(float(t["upstream"]), digits), number_operand(float(t["local"]), digits)
            text = write("mul", [up, lo])[0]
            prods.append(text if k == 0 or not text.startswith("-") else "(%s)" % text)
        line = "%s &= %s = %s" % (total(out_label, names[i]), chain, " + ".join(prods))
        if len(terms) > 1:
            sums = [_num(t["product"]) for t in terms]
            line += " = " + " + ".join(s if k == 0 or not s.startswith("-") else "(%s)" % s
                                       for k, s in enumerate(sums))
        rows.append(line + " = " + grad)
        count: dict = {}
        for t in terms:
            count[t["via"]] = count.get(t["via"], 0) + 1
        for t in terms:
            u = t["via"]
            args = g.args[u]
            ops = []
            for a in args:
                o = operand(a)
                braced = o[1] == P_ATOM or o[0].startswith("{")  # x, 2, {h^{(2)}}: as they are in a rule
                ops.append(o[0] if braced else "(%s)" % o[0])
            formula = local_formula(g.ops[u], len(args), t["arg"], ops)
            value = _num(t["local"])
            where = r"&\qquad \text{where } %s" % local(u, i)
            if count[u] > 1:
                where += r"\ (\text{operand %d})" % (t["arg"] + 1)
            where += " = " + (formula + " = " if formula != value else "") + value
            rows.append(where)
    body = "".join(row + ("" if k == len(rows) - 1 else " \\\\[1ex]\n" if k in gaps else " \\\\\n")
                   for k, row in enumerate(rows))
    body = "\\begin{aligned}\n%s\n\\end{aligned}" % body
    out.write(wrap(body, standalone) + "\n")
    out.flush()
