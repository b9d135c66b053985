"""Derivatives as program text: program_text writes nodes of a graph in the
language (shared subexpressions as temporaries), diff_text the derivatives."""

import math
import re

from ...core.primitives import P_ATOM, P_UNARY, PRIMITIVES
from ...core.tape import CONST, VAR, _const_text, write
from .gradient import _copy, differentiate, subgraph

TINY = 12  # a shared subexpression this short is written out at each use, not as a temporary

_HOLE = re.compile("\x00(\\d+)\x00")


def derivative_name(seq):
    """d_x; d2_x for d2/dx2; d2_x_y for the mixed partial d2/dxdy."""
    if len(seq) == 1:
        return "d_" + seq[0]
    if len(set(seq)) == 1:
        return "d%d_%s" % (len(seq), seq[0])
    return "d%d_%s" % (len(seq), "_".join(seq))


def _number_text(v):
    if math.isinf(v):
        return "1e999" if v > 0 else "-1e999"
    return _const_text(v)


def _template(op, precs):
    """How `op` is written around operands of these precedences: pieces of text and
    operand indexes (write's parentheses, with * and / written tight: 2*x*y)."""
    text, p = write(op, [("\x00%d\x00" % k, q) for k, q in enumerate(precs)])
    if op in ("mul", "div"):
        sym = PRIMITIVES[op].symbol
        text = text.replace(" %s " % sym, sym)
    pattern = [int(x) if k % 2 else x for k, x in enumerate(_HOLE.split(text)) if k % 2 or x]
    return pattern, p


def program_text(g, results, taken=()):
    """The nodes `results` [(name, node id)] of g as program text (program_parts)."""
    temps, outs, single = program_parts(g, results, taken)
    if single:
        return outs[0][1]
    return "\n".join("%s = %s" % line for line in temps + outs)



def reached(args, roots):
    """(keep, uses) over the nodes up to the last root: keep[i] is 1 when a root depends
    on node i, uses[i] how many times the roots and the kept nodes read it. One loop down
    the tape (no recursion)."""
    n = max(roots) + 1
    keep = bytearray(n)
    uses = [0] * n
    for r in roots:
        keep[r] = 1
        uses[r] += 1
    for i in range(n - 1, -1, -1):
        if keep[i]:
            for a in args[i]:
                keep[a] = 1
                uses[a] += 1
    return keep, uses

def program_parts(g, results, taken=(), style=None):
    """The nodes `results` [(name, node id)] of g written in the language:
    a node used more than once (and longer than TINY characters) becomes a
    temporary `t1 = ...` (or the program's own name for it, when it has one bound
    once), defined before its uses; then one `name = expr` line per result. A
    single result without temporaries is just its expression. One loop up the
    tape and a rope of pieces per node: nothing recurses, and each piece is
    written once, so the text is linear in the number of nodes printed.

    Returns (temporaries, results, single): lists of (name, text), and whether it
    is one result without temporaries. With a `style` (features/latex.py: its
    template(op, operand precedences), var(name) and const(value), each giving
    text and precedence) the texts are the style's; which nodes are temporaries
    is decided on the language's text, so every style has the same ones."""
    if not results:
        return [], [], False
    ops, args, attr = g.ops, g.args, g.attr
    n = max(r for _, r in results) + 1
    keep, uses = reached(args, [r for _, r in results])
    pieces = {}  # node -> list of str and child ids
    templates = {}  # (op, operand precedences) -> (pieces with operand indexes, precedence)
    prec = {}
    sprec = prec if style is None else {}  # the style's precedences
    stemplates: dict = {}
    length = {}  # length of the node written out in full (temporaries as ~3 characters)
    temp = {}
    leaf = {}
    for i in range(n):
        if not keep[i]:
            continue
        op = ops[i]
        if op == VAR:
            leaf[i] = attr[i]
            prec[i], length[i] = P_ATOM, len(attr[i])
            if style is not None:
                leaf[i], sprec[i] = style.var(attr[i])
            continue
        if op == CONST:
            t = leaf[i] = _number_text(attr[i])
            prec[i], length[i] = (P_UNARY if t.startswith("-") else P_ATOM), len(t)
            if style is not None:
                leaf[i], sprec[i] = style.const(attr[i])
            continue
        a_ = args[i]
        key = (op,) + tuple(P_ATOM if a in temp else prec[a] for a in a_)
        tpl = templates.get(key)
        if tpl is None:
            tpl = templates[key] = _template(op, key[1:])
        pattern, prec[i] = tpl
        total = 0
        for x in pattern:
            if isinstance(x, str):
                total += len(x)
            else:
                total += 3 if a_[x] in temp else length[a_[x]]
        if style is not None:
            skey = (op,) + tuple(style.atom if a in temp else sprec[a] for a in a_)
            tpl = stemplates.get(skey)
            if tpl is None:
                tpl = stemplates[skey] = style.template(op, skey[1:])
            pattern, sprec[i] = tpl
        pieces[i] = [a_[x] if isinstance(x, int) else x for x in pattern]
        length[i] = total
        if uses[i] > 1 and total > TINY:
            temp[i] = None
    # names: the results', then the temporaries' (the program's name for the node when it is free)
    taken = set(taken) | set(g.inputs)
    count = {}
    for name, _ in g.bindings:
        count[name] = count.get(name, 0) + 1
    out_names = []
    for name, _ in results:
        while name in taken:
            name += "_"
        taken.add(name)
        out_names.append(name)
    k = 0
    for i in temp:
        name = g.names[i] if i < len(g.names) else None
        if name is None or count.get(name) != 1 or name in taken:
            while True:  # t1, t2, ...: not a name the program uses for something else
                k += 1
                name = "t%d" % k
                if name not in taken and name not in count:
                    break
        taken.add(name)
        temp[i] = name

    ref = temp if style is None else {i: style.name(t) for i, t in temp.items()}

    def expand(i, top):
        if not top:
            if i in temp:
                return ref[i]
            if i in leaf:
                return leaf[i]
        buf = []
        stack = [pieces[i]] if i in pieces else [[leaf[i]]]
        pos = [0]
        while stack:
            parts, p = stack[-1], pos[-1]
            if p == len(parts):
                stack.pop()
                pos.pop()
                continue
            pos[-1] = p + 1
            x = parts[p]
            if isinstance(x, str):
                buf.append(x)
            elif x in temp:
                buf.append(ref[x])
            elif x in leaf:
                buf.append(leaf[x])
            else:
                stack.append(pieces[x])
                pos.append(0)
        return "".join(buf)

    temps = [(temp[i], expand(i, True)) for i in temp]
    outs = [(name, expand(r, False)) for name, (_, r) in zip(out_names, results)]
    return temps, outs, not temp and len(results) == 1


def diff_text(program, seqs):
    """The derivatives of the program's output for each name sequence, as program
    text. Works on a copy of the output's cone, so `program` is left as it was."""
    program = _copy(program)
    results = differentiate(program, seqs)
    return program_text(program.graph, [(derivative_name(s), node) for s, node in results])


def output_derivative_name(output, seq):
    """Several outputs: du_dx; d2u_dx2 for d2u/dx2; d2u_dx_dy for the mixed partial."""
    if len(seq) == 1:
        return "d%s_d%s" % (output, seq[0])
    if len(set(seq)) == 1:
        return "d%d%s_d%s%d" % (len(seq), output, seq[0], len(seq))
    return "d%d%s_%s" % (len(seq), output, "_".join("d" + n for n in seq))


def diff_texts(program, outputs, seqs):
    """The derivatives of each output (names, --output u,v) for each name sequence, as
    one program: temporaries shared by all of them first, then per output and sequence
    a `du_dx = ...` line. Works on a copy of the outputs' cones."""
    from ...core.language import Program
    from .builder import Builder
    ids = [program.select(u).output for u in outputs]
    g, new = subgraph(program.graph, ids)
    b = Builder(g)
    results = []
    for u, i in zip(outputs, ids):
        for s, node in differentiate(Program(g, new[i], u, program.source), seqs, b):
            results.append((output_derivative_name(u, s), node))
    return program_text(g, results)
