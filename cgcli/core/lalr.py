"""A lean LALR(1) driver over Lark's tables: text to values in one loop.

Lark stays the single source of truth: `build_tables` (run by `python -m
cgcli.regenerate`, or at load when the grammar was edited) asks Lark for its
LALR action/goto tables, its rules with the tree builder's filtering (which
children a callback sees: anonymous tokens dropped, `_rule`s spliced, `[..]`
placeholders as None, `?rule`s passed through when they have one child) and its
basic lexer's terminals, and returns them as plain Python data. `Tables` turns
that data into what the loop indexes, and `parse` runs it:

- tokens come from ONE compiled regular expression, Lark's own alternation of
  its terminals in its priority order (first match wins, as in Lark's scanner)
  plus a last alternative taking any one character (an unexpected character);
  `finditer` walks the text once and `lastindex` names the terminal;
- actions are a list per state indexed by the terminal's group number;
- a `?rule` with one child (sum: product, product: factor, ...) does nothing
  but move the parser to another state, so its reductions are folded into the
  goto table (per state, nonterminal and lookahead, the state after the chain);
- the value stack holds the builder's results; a terminal is pushed as its
  match object and made a Token only where a callback sees it.

No recursion: the two stacks carry nesting depth. Syntax errors are raised as
UnexpectedToken / UnexpectedCharacters with the attributes of Lark's own
exceptions (token, expected, line, column, pos_in_stream), from the same state
with the same expected set, so messages read the same.
"""

import re
from itertools import chain

SHIFT_FOLD_MAX = 64  # longest chain of `?rule` pass-throughs folded (a grammar has few)
SKIP = 1 << 30  # in the loop's action rows: an ignored terminal (SKIP) or an unexpected character (SKIP + 1)


class Token(str):
    """A terminal as a callback sees it: its text, with type and position
    (line and column computed on demand from the text)."""

    type: str
    start_pos: int
    _text: str

    def __new__(cls, type_, value, start_pos, text):
        t = str.__new__(cls, value)
        t.type = type_
        t.start_pos = start_pos
        t._text = text
        return t

    @property
    def line(self):
        return self._text.count("\n", 0, self.start_pos) + 1

    @property
    def column(self):
        return self.start_pos - self._text.rfind("\n", 0, self.start_pos)


class UnexpectedInput(Exception):
    pass


class UnexpectedToken(UnexpectedInput):
    def __init__(self, token, expected):
        super().__init__("unexpected %s" % token.type)
        self.token = token
        self.expected = expected
        self.line = token.line if token.type != "$END" else -1
        self.column = token.column if token.type != "$END" else -1


class UnexpectedCharacters(UnexpectedInput):
    def __init__(self, text, pos):
        super().__init__("unexpected character at %d" % pos)
        self.pos_in_stream = pos
        self.line = text.count("\n", 0, pos) + 1
        self.column = pos - text.rfind("\n", 0, pos)


# ---- the tables, from Lark ------------------------------------------------------

def build_tables(grammar_text):
    """Lark's tables for the grammar, as plain data (lists, dicts, strings, ints)."""
    import lark
    from lark.parsers.lalr_analysis import Shift

    lk = lark.Lark(grammar_text, parser="lalr", lexer="basic")
    lexer = lk.parser.lexer
    scanner = lexer.scanner
    if len(scanner._mres) != 1 or lexer.callback:
        raise RuntimeError("the grammar's lexer needs more than one regular expression or terminal callbacks")
    pattern = scanner._mres[0].pattern
    pattern += "|(?P<__UNEXPECTED>[\\s\\S])"
    groups = re.compile(pattern).groupindex
    # The loop's pattern: each token takes the ignored text after it (an atomic group,
    # so no backtracking into it). Token types and texts are unchanged; only a
    # separator's start may move past the spaces before it, so errors are reported
    # from a second pass with the exact pattern (language.parse_program).
    skipped = [t.pattern.to_regexp() for t in lexer.terminals if t.name in lexer.ignore_types]
    lean = pattern
    if skipped and all(re.compile(r).groups == 0 and re.fullmatch(r, "") is None for r in skipped):
        lean = "(?:%s)(?>(?:%s)*)" % (pattern, "|".join(skipped))
    width = max(groups.values()) + 2
    end = width - 1
    names = [""] * width
    for name, i in groups.items():
        names[i] = name
    names[end] = "$END"
    index = {n: i for i, n in enumerate(names) if n}
    ignore = sorted(groups[t] for t in lexer.ignore_types)

    rules: list = []
    rule_ids: dict = {}
    for r in lk.rules:
        o = r.options
        empty = list(o.empty_indices) if o.empty_indices else []
        if empty:
            s = "".join(str(int(b)) for b in empty)
            nones = [len(ones) for ones in s.split("0")]
        else:
            nones = [0] * (len(r.expansion) + 1)
        include, pending = [], 0
        for i, sym in enumerate(r.expansion):
            pending += nones[i]
            if o.keep_all_tokens or not (sym.is_term and getattr(sym, "filter_out", False)):
                include.append([i, int(not sym.is_term and sym.name.startswith("_")), pending, int(sym.is_term)])
                pending = 0
        pending += nones[len(r.expansion)]
        name = str(r.alias or o.template_source or r.origin.name)
        rule_ids[r] = len(rules)
        rules.append([str(r.origin.name), len(r.expansion), name, int(bool(o.expand1 and not r.alias)), include, pending])

    pt = lk.parser.parser.parser.parse_table
    # Lark numbers its states in a set's order (it varies with the hash seed); number
    # them here breadth-first from the start state, each state's moves in sorted order,
    # so that regenerating gives the same file
    start = pt.start_states["start"]
    order, seen = [start], {start}
    for s in order:
        for _sym, (kind, arg) in sorted(pt.states[s].items()):
            if kind is Shift and arg not in seen:
                seen.add(arg)
                order.append(arg)
    new = {s: k for k, s in enumerate(order)}
    actions: list = [[None] * width for _ in order]
    gotos: list = [{} for _ in order]
    for s, row in pt.states.items():
        k = new[s]
        for sym, (kind, arg) in sorted(row.items()):
            if sym in index:
                actions[k][index[sym]] = new[arg] if kind is Shift else ~rule_ids[arg]
            elif kind is Shift:
                gotos[k][str(sym)] = new[arg]
            else:
                raise RuntimeError("unexpected table entry %r" % ((s, sym),))
    return {"pattern": str(pattern), "lean_pattern": str(lean),
            "names": [str(n) for n in names], "ignore": ignore, "actions": actions, "gotos": gotos,
            "rules": rules, "start": new[start], "accept": new[pt.end_states["start"]]}


def _folded(data):
    """Per state the list indexed by nonterminal * width + lookahead: the state
    the parser is in after the goto and every `?rule` pass-through that follows."""
    actions, gotos, rules = data["actions"], data["gotos"], data["rules"]
    width = len(data["names"])
    nts = sorted({r[0] for r in rules})
    nt_index = {n: i for i, n in enumerate(nts)}
    unit = [r[1] == 1 and r[3] and len(r[4]) == 1 and not r[4][0][1] and not r[4][0][3] and not r[4][0][2]
            and not r[5] for r in rules]
    table: list = []
    for row in gotos:
        fold: list = [None] * (len(nts) * width)
        for nt, t0 in row.items():
            base = nt_index[nt] * width
            for la in range(width):
                t, n = t0, 0
                while n < SHIFT_FOLD_MAX:
                    a = actions[t][la]
                    if a is None or a >= 0 or not unit[~a]:
                        break
                    nt2 = rules[~a][0]
                    if nt2 not in row:
                        break
                    t, n = row[nt2], n + 1
                fold[base + la] = t
        table.append(fold)
    return table, nt_index, unit


class Tables:
    """The tables in the form the loop indexes (made once per process)."""

    def __init__(self, data, fold=None):
        self.data = data
        self.exact = re.compile(data["pattern"])  # Lark's own tokens, for the error pass
        self.regex = re.compile(data.get("lean_pattern") or data["pattern"])
        self.names = data["names"]
        self.width = len(self.names)
        self.end = self.width - 1
        self.unexpected = self.names.index("__UNEXPECTED")
        self.ignore = frozenset(data["ignore"])
        self.actions = data["actions"]
        self.rules = data["rules"]
        self.start = data["start"]
        self.accept = data["accept"]
        if fold is None:
            fold = _folded(data)
        self.fold, self.nt_index, self.unit = fold
        # the loop's rows: the actions, plus SKIP for an ignored terminal and SKIP + 1
        # for the unexpected-character alternative, in every state
        self.lean = [list(row) for row in self.actions]
        for row in self.lean:
            for i in self.ignore:
                row[i] = SKIP
            row[self.unexpected] = SKIP + 1

    def expected(self, state):
        """The terminals the state accepts, as Lark lists them in UnexpectedToken."""
        return {self.names[i] for i, a in enumerate(self.actions[state]) if a is not None and self.names[i].isupper()}


PASS, PAREN, BINARY, TOKEN, GENERIC, SPLICE = range(6)


def plan(tables, builder):
    """Per rule (kind, length, goto base, function): how the loop reduces it.
    `builder.fast` maps a callback name to ('binary', f(a, b)) or ('token', f(text));
    other callbacks are the builder's methods, given Lark's children list."""
    fast = builder.fast()
    out = []
    for origin, length, name, expand1, include, trailing in tables.rules:
        base = tables.nt_index[origin] * tables.width
        kept = [i for i, _, _, _ in include]
        simple = not trailing and not any(e or n for _, e, n, _ in include)
        f = fast.get(name)
        if expand1 and simple and len(include) == 1 and not include[0][3]:
            kind, fn = (PASS if length == 1 else PAREN), kept[0] - length
        elif origin.startswith("_"):
            kind, fn = SPLICE, None
        elif f is not None and f[0] == "binary" and simple and length == 3 and kept == [0, 2]:
            kind, fn = BINARY, f[1]
        elif f is not None and f[0] == "token" and simple and length == 1 and kept == [0] and include[0][3]:
            kind, fn = TOKEN, f[1]
        else:
            kind, fn = GENERIC, getattr(builder, name, None) or (lambda c, _n=name: (_n, c))
        out.append((kind, length, base, fn, include, trailing, expand1))
    return out


def _children(text, names, values, include, trailing):
    """The children Lark's tree builder would give the callback. A spliced `_rule`
    in the first place lends its own list (as Lark's filter does), so a long
    `__start_star_0` chain of statements grows in place, not by copies."""
    c: list = []
    for k, (i, expand, nones, term) in enumerate(include):
        if nones:
            c.extend([None] * nones)
        v = values[i]
        if expand:
            if k == 0 and not nones:
                c = v
            else:
                c.extend(v)
        elif term:
            c.append(Token(names[v.lastindex], v.group(v.lastindex), v.start(), text))
        else:
            c.append(v)
    if trailing:
        c.extend([None] * trailing)
    return c


def parse(tables, rules, text, exact=False):
    """Parse text; `rules` is plan(tables, builder). Returns the start rule's value.
    `exact`: tokenize with Lark's own pattern (every token's start as Lark's), for
    reporting a syntax error the fast pass met."""
    actions, fold, names = tables.lean, tables.fold, tables.names
    end, accept, skip = tables.end, tables.accept, SKIP
    states = [tables.start]
    values: list = []
    push_state, push_value = states.append, values.append
    state = tables.start
    for m in chain((tables.exact if exact else tables.regex).finditer(text), (None,)):
        la = end if m is None else m.lastindex
        while True:
            a = actions[state][la]
            if a is None:
                raise UnexpectedToken(_token(text, names, la, m), tables.expected(state))
            if a >= 0:
                if a >= skip:
                    if a == skip:  # an ignored terminal
                        break
                    raise UnexpectedCharacters(text, m.start())
                push_state(a)
                push_value(m)
                state = a
                break
            kind, n, base, f, include, trailing, expand1 = rules[~a]
            if kind == TOKEN:
                v = values[-1]
                values[-1] = f(v.group(v.lastindex))
            elif kind == BINARY:
                v = f(values[-3], values[-1])
                del values[-2:]
                values[-1] = v
                del states[-2:]
            elif kind == PAREN:
                v = values[f]
                del values[1 - n:]
                values[-1] = v
                del states[1 - n:]
            elif kind != PASS:
                if n:
                    args = values[-n:]
                    del values[-n:]
                    del states[-n:]
                else:
                    args = []
                c = _children(text, names, args, include, trailing)
                if kind == SPLICE:
                    v = c
                elif expand1 and len(c) == 1:
                    v = c[0]
                else:
                    v = f(c)
                values.append(v)
                states.append(0)
                state = states[-1] = fold[states[-2]][base + la]
                if state == accept:
                    return values[-1]
                continue
            state = states[-1] = fold[states[-2]][base + la]
    raise AssertionError("the parser ended without accepting")  # not reached: $END is accepted or rejected


def _token(text, names, la, m):
    if m is not None:
        return Token(names[la], m.group(la), m.start(), text)
    # Lark's $END borrows the last token's position; the message places it at the end anyway
    return Token("$END", "", len(text), text)
