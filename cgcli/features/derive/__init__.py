"""The derivative as an expression: a symbolic backward pass over the tape.

The numeric backward pass (core/passes.py) carries numbers down the tape; this one
carries nodes. Walking the nodes from the output back to the inputs, the adjoint
of each node is the sum of `upstream adjoint * local partial` over its uses, and
every partial, product and sum is a new node of the same Graph: the primitive's
one derivative rule (`Primitive.d`) is run on symbolic operands (symbolic.py),
whose arithmetic calls a simplifying `Builder` (builder.py). The
derivative is then a node like any other: it can be evaluated, differentiated
again (higher orders, the Hessian) or printed back as a program.

Simplification is local and never changes the value where the backward pass
has one; it follows the algebra of real numbers, so it may give a value where
the unsimplified form has none: `x*0` and `x - x` are 0 even where x is
undefined, `x/x` is 1 (see Builder.cancel: every division in a derivative is
one the backward pass also does, so at x = 0 it has no gradient either), and a
product may overflow where the unsimplified one would not, or the reverse.
Values can differ by roundings (2*x*3 is 6*x). (The rules themselves have one
exception, pow's m.dpow_base and m.dpow_exp in symbolic.py: x^y with an exponent
that depends on an input is undefined at x = 0, where the backward pass takes
PyTorch's limits.) A `Builder` keeps sums as lists
of terms (coefficient, factors) and products as factors with integer exponents,
collects like terms, folds numbers, and writes the canonical node: coefficient
first, inputs next, then other factors in tape order, divisions last (`2*x*y`,
`-x/y^2`, `1 - t^2`).

Nothing recurses: walks into a node stop after BUDGET steps and treat it as one
opaque factor (remembered), so each builder call is O(1) and a derivative grows
with the graph. Printing writes a node used more than once (and longer than a
few characters) as a temporary, so the text grows with the graph, not with the
number of paths through it (printer.py).

The modules: arith (folding numbers, term accumulators), builder (the Builder),
symbolic (the rules' namespace over the Builder), gradient (gradient_nodes,
differentiate, hessian), printer (program_text, diff_text), export (diff
--format python|c: export_code).
"""

from .arith import fold
from .builder import Builder
from .gradient import check_names, differentiate, gradient_nodes, hessian, hessian_graph, hessian_nodes, hessian_pairs, subgraph
from .printer import derivative_name, diff_text, diff_texts, program_text

__all__ = ["Builder", "fold", "check_names", "differentiate", "gradient_nodes", "hessian",
           "hessian_graph", "hessian_nodes", "hessian_pairs", "subgraph",
           "derivative_name", "diff_text", "diff_texts", "program_text"]
