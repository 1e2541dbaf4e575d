package io.cohx.models.tokenizer.jinja;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a Jinja template into text and tags, with the whitespace rules Hugging Face renders chat
 * templates with ({@code trim_blocks} and {@code lstrip_blocks} on, {@code keep_trailing_newline}
 * off): a newline right after a block tag is dropped, spaces before a block tag that starts a line
 * are dropped, {@code -} on a tag strips all whitespace on that side, {@code +} keeps it.
 */
final class Lexer {

    enum Kind { TEXT, OUTPUT, BLOCK }

    /** A piece of the template: literal text, or the inside of {@code {{ }}} / {@code {% %}}. */
    record Segment(Kind kind, String body, int line) {}

    private Lexer() {}

    static List<Segment> segments(String source) {
        if (source.endsWith("\r\n")) source = source.substring(0, source.length() - 2);
        else if (source.endsWith("\n") || source.endsWith("\r")) source = source.substring(0, source.length() - 1);
        var out = new ArrayList<Segment>();
        int pos = 0;
        int line = 1;
        boolean lineStarting = true;
        boolean stripNext = false; // the previous tag ended with '-'
        boolean trimNewline = false; // the previous tag was a block or comment (trim_blocks)
        while (pos <= source.length()) {
            int open = nextOpen(source, pos);
            String text = source.substring(pos, open < 0 ? source.length() : open);
            if (stripNext) text = text.stripLeading();
            else if (trimNewline && text.startsWith("\n")) text = text.substring(1);
            else if (trimNewline && text.startsWith("\r\n")) text = text.substring(2);
            if (open < 0) {
                if (!text.isEmpty()) out.add(new Segment(Kind.TEXT, text, line));
                break;
            }
            char k = source.charAt(open + 1);
            int bodyStart = open + 2;
            boolean leftStrip = bodyStart < source.length() && source.charAt(bodyStart) == '-';
            boolean leftKeep = bodyStart < source.length() && source.charAt(bodyStart) == '+';
            if (leftStrip || leftKeep) bodyStart++;
            int tagLine = line + count(source, pos, open);
            String closer = k == '{' ? "}}" : k == '%' ? "%}" : "#}";
            int close = findClose(source, bodyStart, closer, k == '#');
            if (close < 0) throw JinjaException.at(tagLine, "'" + source.substring(open, open + 2) + "' is never closed");
            boolean rightStrip = close > bodyStart && source.charAt(close - 1) == '-';
            String body = source.substring(bodyStart, rightStrip ? close - 1 : close);
            if (leftStrip) {
                text = text.stripTrailing();
            } else if (k != '{' && !leftKeep) {
                int lpos = text.lastIndexOf('\n') + 1;
                if ((lpos > 0 || lineStarting) && text.substring(lpos).isBlank()) text = text.substring(0, lpos);
            }
            if (!text.isEmpty()) out.add(new Segment(Kind.TEXT, text, line));
            if (k == '{') out.add(new Segment(Kind.OUTPUT, body, tagLine));
            else if (k == '%') out.add(new Segment(Kind.BLOCK, body, tagLine));
            int end = close + 2;
            line = tagLine + count(source, open, end);
            stripNext = rightStrip;
            trimNewline = k != '{';
            // jinja2 counts a tag as ending a line when what it consumed (a trimmed newline, or whitespace
            // stripped by '-') ends with a newline; a block tag right after it then starts a line.
            int ws = end;
            while (rightStrip && ws < source.length() && Character.isWhitespace(source.charAt(ws))) ws++;
            lineStarting = rightStrip ? ws > end && source.charAt(ws - 1) == '\n'
                    : k != '{' && end < source.length() && source.charAt(end) == '\n';
            pos = end;
        }
        return out;
    }

    private static int nextOpen(String s, int from) {
        for (int i = from; i + 1 < s.length(); i++) {
            if (s.charAt(i) == '{') {
                char c = s.charAt(i + 1);
                if (c == '{' || c == '%' || c == '#') return i;
            }
        }
        return -1;
    }

    /** The closing delimiter, skipping quoted strings inside expressions. */
    private static int findClose(String s, int from, String closer, boolean comment) {
        char quote = 0;
        for (int i = from; i + 1 < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == '\\') i++;
                else if (c == quote) quote = 0;
                continue;
            }
            if (!comment && (c == '\'' || c == '"')) quote = c;
            else if (c == closer.charAt(0) && s.charAt(i + 1) == closer.charAt(1)) return i;
        }
        return -1;
    }

    private static int count(String s, int from, int to) {
        int n = 0;
        for (int i = from; i < to; i++) if (s.charAt(i) == '\n') n++;
        return n;
    }
}
