package io.cohx.models.tokenizer.jinja;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses a template into {@link Node}s: the statements {@code if/elif/else}, {@code for} (with
 * unpacking, an {@code if} filter, {@code else}, {@code loop.*}, {@code break}/{@code continue}),
 * {@code set} (names and namespace attributes) and Hugging Face's {@code generation}; expressions
 * with literals, lists, dicts, attribute and item access, slices, calls, filters, tests, the
 * operators of jinja2 at its precedence, and {@code a if b else c}. Everything else (macros,
 * includes, set blocks, call blocks, ...) is an error naming the line.
 */
final class Parser {

    private static final Set<String> KEYWORDS = Set.of("and", "or", "not", "in", "is", "if", "else", "true", "false",
            "none", "True", "False", "None");

    private final List<Lexer.Segment> segments;
    private int seg;

    private Parser(List<Lexer.Segment> segments) {
        this.segments = segments;
    }

    static List<Node> parse(String source) {
        var p = new Parser(Lexer.segments(source));
        List<Node> body = p.block(Set.of());
        if (p.seg < p.segments.size()) {
            var s = p.segments.get(p.seg);
            throw JinjaException.at(s.line(), "unexpected '{% " + s.body().strip() + " %}'");
        }
        return body;
    }

    /** Nodes up to (not including) a block tag whose first word is in {@code ends}. */
    private List<Node> block(Set<String> ends) {
        var out = new ArrayList<Node>();
        while (seg < segments.size()) {
            Lexer.Segment s = segments.get(seg);
            switch (s.kind()) {
                case TEXT -> {
                    out.add(new Node.Text(s.body()));
                    seg++;
                }
                case OUTPUT -> {
                    var t = new Tokens(s.body(), s.line());
                    out.add(new Node.Output(expression(t)));
                    t.expectEnd();
                    seg++;
                }
                case BLOCK -> {
                    var t = new Tokens(s.body(), s.line());
                    String word = t.peekWord();
                    if (ends.contains(word)) return out;
                    seg++;
                    t.next();
                    out.add(statement(word, t, s.line()));
                }
            }
        }
        if (!ends.isEmpty()) {
            int line = segments.isEmpty() ? 1 : segments.getLast().line();
            throw JinjaException.at(line, "the template ends before '{% " + String.join(" %}' or '{% ", ends) + " %}'");
        }
        return out;
    }

    private Tokens endTag() {
        Lexer.Segment s = segments.get(seg++);
        var t = new Tokens(s.body(), s.line());
        t.next();
        return t;
    }

    private Node statement(String word, Tokens t, int line) {
        switch (word) {
            case "if" -> {
                var branches = new ArrayList<Node.Branch>();
                Expr test = expression(t);
                t.expectEnd();
                List<Node> otherwise = List.of();
                while (true) {
                    List<Node> body = block(Set.of("elif", "else", "endif"));
                    branches.add(new Node.Branch(test, body));
                    Tokens end = endTag();
                    String w = end.previousWord();
                    if (w.equals("elif")) {
                        test = expression(end);
                        end.expectEnd();
                        continue;
                    }
                    end.expectEnd();
                    if (w.equals("else")) {
                        otherwise = block(Set.of("endif"));
                        endTag().expectEnd();
                    }
                    break;
                }
                return new Node.If(branches, otherwise);
            }
            case "for" -> {
                var targets = new ArrayList<String>();
                do {
                    targets.add(t.name());
                } while (t.accept(","));
                t.expectWord("in");
                Expr iterable = ternaryFree(t);
                Expr filter = null;
                if (t.acceptWord("if")) filter = expression(t);
                if (t.acceptWord("recursive")) throw JinjaException.at(line, "recursive loops are not supported");
                t.expectEnd();
                List<Node> body = block(Set.of("else", "endfor"));
                Tokens end = endTag();
                List<Node> otherwise = List.of();
                end.expectEnd();
                if (end.previousWord().equals("else")) {
                    otherwise = block(Set.of("endfor"));
                    endTag().expectEnd();
                }
                return new Node.For(targets, iterable, filter, body, otherwise, line);
            }
            case "set" -> {
                String name = t.name();
                String attr = t.accept(".") ? t.name() : null;
                if (!t.accept("=")) throw JinjaException.at(line, "'{% set " + name + " %}...{% endset %}' blocks are not supported");
                Expr value = expression(t);
                if (t.accept(",")) throw JinjaException.at(line, "tuple assignment in set is not supported");
                t.expectEnd();
                return new Node.Set(name, attr, value, line);
            }
            case "break", "continue" -> {
                t.expectEnd();
                return new Node.Jump(word.equals("break"));
            }
            case "generation" -> {
                t.expectEnd();
                List<Node> body = block(Set.of("endgeneration"));
                endTag().expectEnd();
                return new Node.Block(body);
            }
            default -> throw JinjaException.at(line, "'{% " + word + " %}' is not supported by cohx's chat templates "
                    + "(supported: if, for, set, break, continue, generation)");
        }
    }

    // ------------------------------------------------------------------ expressions

    private Expr expression(Tokens t) {
        Expr e = or(t);
        if (t.acceptWord("if")) {
            Expr test = or(t);
            Expr otherwise = t.acceptWord("else") ? expression(t) : null;
            return new Expr.Conditional(test, e, otherwise);
        }
        return e;
    }

    /** A for-loop's iterable: no conditional expression, so its {@code if} is the loop filter. */
    private Expr ternaryFree(Tokens t) {
        return or(t);
    }

    private Expr or(Tokens t) {
        Expr e = and(t);
        while (t.acceptWord("or")) e = new Expr.Binary("or", e, and(t), t.line);
        return e;
    }

    private Expr and(Tokens t) {
        Expr e = not(t);
        while (t.acceptWord("and")) e = new Expr.Binary("and", e, not(t), t.line);
        return e;
    }

    private Expr not(Tokens t) {
        if (t.acceptWord("not")) return new Expr.Unary("not", not(t), t.line);
        return compare(t);
    }

    private Expr compare(Tokens t) {
        Expr e = math1(t);
        while (true) {
            String op = t.peekSymbol();
            if (op != null && Set.of("==", "!=", "<", ">", "<=", ">=").contains(op)) {
                t.next();
                e = new Expr.Binary(op, e, math1(t), t.line);
            } else if (t.acceptWord("in")) {
                e = new Expr.Binary("in", e, math1(t), t.line);
            } else if (t.peekWord().equals("not") && t.peekWord(1).equals("in")) {
                t.next();
                t.next();
                e = new Expr.Binary("not in", e, math1(t), t.line);
            } else {
                return e;
            }
        }
    }

    private Expr math1(Tokens t) {
        Expr e = concat(t);
        while (t.peekSymbol() != null && (t.peekSymbol().equals("+") || t.peekSymbol().equals("-"))) {
            String op = t.next().text();
            e = new Expr.Binary(op, e, concat(t), t.line);
        }
        return e;
    }

    private Expr concat(Tokens t) {
        Expr e = math2(t);
        while (t.accept("~")) e = new Expr.Binary("~", e, math2(t), t.line);
        return e;
    }

    private Expr math2(Tokens t) {
        Expr e = pow(t);
        while (t.peekSymbol() != null && Set.of("*", "/", "//", "%").contains(t.peekSymbol())) {
            String op = t.next().text();
            e = new Expr.Binary(op, e, pow(t), t.line);
        }
        return e;
    }

    private Expr pow(Tokens t) {
        Expr e = unary(t);
        while (t.accept("**")) e = new Expr.Binary("**", e, unary(t), t.line);
        return e;
    }

    private Expr unary(Tokens t) {
        if (t.accept("-")) return filters(t, new Expr.Unary("-", unary(t), t.line));
        if (t.accept("+")) return filters(t, unary(t));
        return filters(t, postfix(t, primary(t)));
    }

    private Expr filters(Tokens t, Expr e) {
        while (true) {
            if (t.accept("|")) {
                String name = t.name();
                var args = new ArrayList<Expr>();
                var kwargs = new LinkedHashMap<String, Expr>();
                if (t.accept("(")) arguments(t, args, kwargs);
                e = new Expr.Filter(e, name, args, kwargs, t.line);
            } else if (t.acceptWord("is")) {
                boolean negated = t.acceptWord("not");
                String name = t.peekWord().isEmpty() ? t.next().text() : t.name();
                var args = new ArrayList<Expr>();
                if (t.accept("(")) arguments(t, args, new LinkedHashMap<>());
                else if (Set.of("equalto", "eq", "sameas", "ne", "divisibleby", "in").contains(name)) args.add(primaryWithPostfix(t));
                e = new Expr.Test(e, name, args, negated, t.line);
            } else {
                return e;
            }
        }
    }

    private Expr primaryWithPostfix(Tokens t) {
        return postfix(t, primary(t));
    }

    private Expr postfix(Tokens t, Expr e) {
        while (true) {
            if (t.accept(".")) {
                Token name = t.next();
                if (name.kind() != Token.Kind.NAME && name.kind() != Token.Kind.NUMBER) {
                    throw JinjaException.at(t.line, "expected a name after '.', found '" + name.text() + "'");
                }
                e = new Expr.Get(e, name.kind() == Token.Kind.NUMBER ? name.value() : new Expr.Literal(name.text()), true, t.line);
            } else if (t.accept("[")) {
                Expr start = t.peekIs(":") ? null : expression(t);
                if (t.accept(":")) {
                    Expr stop = t.peekIs(":") || t.peekIs("]") ? null : expression(t);
                    Expr step = t.accept(":") && !t.peekIs("]") ? expression(t) : null;
                    t.expect("]");
                    e = new Expr.Slice(e, start, stop, step, t.line);
                } else {
                    t.expect("]");
                    e = new Expr.Get(e, start, false, t.line);
                }
            } else if (t.accept("(")) {
                var args = new ArrayList<Expr>();
                var kwargs = new LinkedHashMap<String, Expr>();
                arguments(t, args, kwargs);
                e = new Expr.Call(e, args, kwargs, t.line);
            } else {
                return e;
            }
        }
    }

    /** Arguments after an opening parenthesis, through the closing one. */
    private void arguments(Tokens t, List<Expr> args, Map<String, Expr> kwargs) {
        if (t.accept(")")) return;
        do {
            if (t.peek().kind() == Token.Kind.NAME && t.peekIs(1, "=")) {
                String k = t.next().text();
                t.next();
                kwargs.put(k, expression(t));
            } else {
                args.add(expression(t));
            }
        } while (t.accept(","));
        t.expect(")");
    }

    private Expr primary(Tokens t) {
        Token tok = t.next();
        switch (tok.kind()) {
            case STRING -> {
                String s = (String) tok.value().eval(null);
                while (t.peek().kind() == Token.Kind.STRING) s += (String) t.next().value().eval(null); // adjacent literals
                return new Expr.Literal(s);
            }
            case NUMBER -> {
                return tok.value();
            }
            case NAME -> {
                return switch (tok.text()) {
                    case "true", "True" -> new Expr.Literal(true);
                    case "false", "False" -> new Expr.Literal(false);
                    case "none", "None" -> new Expr.Literal(null);
                    default -> {
                        if (KEYWORDS.contains(tok.text())) throw JinjaException.at(t.line, "unexpected '" + tok.text() + "'");
                        yield new Expr.Name(tok.text(), t.line);
                    }
                };
            }
            case SYMBOL -> {
                switch (tok.text()) {
                    case "(" -> {
                        if (t.accept(")")) return new Expr.ListOf(List.of());
                        Expr e = expression(t);
                        if (t.accept(",")) { // a tuple: a list to the template
                            var items = new ArrayList<Expr>(List.of(e));
                            while (!t.peekIs(")")) {
                                items.add(expression(t));
                                if (!t.accept(",")) break;
                            }
                            e = new Expr.ListOf(items);
                        }
                        t.expect(")");
                        return e;
                    }
                    case "[" -> {
                        var items = new ArrayList<Expr>();
                        while (!t.peekIs("]")) {
                            items.add(expression(t));
                            if (!t.accept(",")) break;
                        }
                        t.expect("]");
                        return new Expr.ListOf(items);
                    }
                    case "{" -> {
                        var keys = new ArrayList<Expr>();
                        var values = new ArrayList<Expr>();
                        while (!t.peekIs("}")) {
                            keys.add(expression(t));
                            t.expect(":");
                            values.add(expression(t));
                            if (!t.accept(",")) break;
                        }
                        t.expect("}");
                        return new Expr.DictOf(keys, values);
                    }
                    default -> { }
                }
            }
            default -> { }
        }
        throw JinjaException.at(t.line, tok.kind() == Token.Kind.END ? "the expression ends too early" : "unexpected '" + tok.text() + "'");
    }

    // ------------------------------------------------------------------ tokens

    record Token(Kind kind, String text, Expr value) {
        enum Kind { NAME, NUMBER, STRING, SYMBOL, END }
    }

    /** The tokens of one tag's inside. */
    private static final class Tokens {
        private static final List<String> SYMBOLS = List.of("**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~",
                "<", ">", "|", ".", ",", ":", "(", ")", "[", "]", "{", "}", "=");
        private final List<Token> tokens = new ArrayList<>();
        private int pos;
        final int line;

        Tokens(String s, int line) {
            this.line = line;
            int i = 0;
            while (i < s.length()) {
                char c = s.charAt(i);
                if (Character.isWhitespace(c)) {
                    i++;
                } else if (Character.isLetter(c) || c == '_') {
                    int j = i;
                    while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) j++;
                    tokens.add(new Token(Token.Kind.NAME, s.substring(i, j), null));
                    i = j;
                } else if (Character.isDigit(c)) {
                    int j = i;
                    while (j < s.length() && (Character.isDigit(s.charAt(j)) || s.charAt(j) == '_')) j++;
                    boolean isFloat = j + 1 < s.length() && s.charAt(j) == '.' && Character.isDigit(s.charAt(j + 1));
                    if (isFloat) {
                        j++;
                        while (j < s.length() && Character.isDigit(s.charAt(j))) j++;
                    }
                    String num = s.substring(i, j).replace("_", "");
                    tokens.add(new Token(Token.Kind.NUMBER, num,
                            new Expr.Literal(isFloat ? (Object) Double.parseDouble(num) : (Object) Long.parseLong(num))));
                    i = j;
                } else if (c == '\'' || c == '"') {
                    var sb = new StringBuilder();
                    int j = i + 1;
                    while (j < s.length() && s.charAt(j) != c) {
                        char d = s.charAt(j);
                        if (d == '\\' && j + 1 < s.length()) {
                            char e = s.charAt(++j);
                            switch (e) {
                                case 'n' -> sb.append('\n');
                                case 't' -> sb.append('\t');
                                case 'r' -> sb.append('\r');
                                case '\\', '\'', '"' -> sb.append(e);
                                case 'u' -> {
                                    sb.append((char) Integer.parseInt(s.substring(j + 1, j + 5), 16));
                                    j += 4;
                                }
                                default -> sb.append('\\').append(e);
                            }
                        } else {
                            sb.append(d);
                        }
                        j++;
                    }
                    if (j >= s.length()) throw JinjaException.at(line, "unterminated string literal");
                    tokens.add(new Token(Token.Kind.STRING, s.substring(i, j + 1), new Expr.Literal(sb.toString())));
                    i = j + 1;
                } else {
                    String sym = null;
                    for (String op : SYMBOLS) {
                        if (s.startsWith(op, i)) {
                            sym = op;
                            break;
                        }
                    }
                    if (sym == null) throw JinjaException.at(line, "unexpected character '" + c + "'");
                    tokens.add(new Token(Token.Kind.SYMBOL, sym, null));
                    i += sym.length();
                }
            }
            tokens.add(new Token(Token.Kind.END, "", null));
        }

        Token peek() {
            return tokens.get(pos);
        }

        Token next() {
            Token t = tokens.get(pos);
            if (pos < tokens.size() - 1) pos++;
            return t;
        }

        String previousWord() {
            return tokens.get(pos - 1).text();
        }

        String peekWord() {
            return peekWord(0);
        }

        String peekWord(int ahead) {
            Token t = tokens.get(Math.min(pos + ahead, tokens.size() - 1));
            return t.kind() == Token.Kind.NAME ? t.text() : "";
        }

        String peekSymbol() {
            return peek().kind() == Token.Kind.SYMBOL ? peek().text() : null;
        }

        boolean peekIs(String sym) {
            return peekIs(0, sym);
        }

        boolean peekIs(int ahead, String sym) {
            Token t = tokens.get(Math.min(pos + ahead, tokens.size() - 1));
            return t.kind() == Token.Kind.SYMBOL && t.text().equals(sym);
        }

        boolean accept(String sym) {
            if (!peekIs(sym)) return false;
            next();
            return true;
        }

        boolean acceptWord(String w) {
            if (!peekWord().equals(w)) return false;
            next();
            return true;
        }

        void expect(String sym) {
            if (!accept(sym)) throw JinjaException.at(line, "expected '" + sym + "', found '" + peek().text() + "'");
        }

        void expectWord(String w) {
            if (!acceptWord(w)) throw JinjaException.at(line, "expected '" + w + "', found '" + peek().text() + "'");
        }

        String name() {
            Token t = next();
            if (t.kind() != Token.Kind.NAME) throw JinjaException.at(line, "expected a name, found '" + t.text() + "'");
            return t.text();
        }

        void expectEnd() {
            if (peek().kind() != Token.Kind.END) throw JinjaException.at(line, "unexpected '" + peek().text() + "'");
        }
    }
}
