package io.cohx.coh.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Reads a JSON-lines file (plain or gzip) line by line and knows the byte offset of the next line
 * in the (decompressed) stream, so a reader can stop anywhere and a new one can start at exactly
 * that line: plain files are opened at the offset, gzip files are decompressed up to it.
 */
final class LineSource implements AutoCloseable {

    private final InputStream in;
    private final byte[] buf = new byte[1 << 16];
    private int pos;
    private int limit;
    private byte[] line = new byte[1 << 12];
    private long offset;
    private long lineNumber;

    /** Opens {@code file} so that the first line read starts at {@code offset} (line {@code lineNumber} + 1). */
    LineSource(Path file, long offset, long lineNumber) throws IOException {
        if (isGzip(file)) {
            in = RecordReader.open(file);
            in.skipNBytes(offset);
        } else {
            var ch = FileChannel.open(file, StandardOpenOption.READ);
            ch.position(offset);
            in = Channels.newInputStream(ch);
        }
        this.offset = offset;
        this.lineNumber = lineNumber;
    }

    private static boolean isGzip(Path file) throws IOException {
        try (var ch = FileChannel.open(file, StandardOpenOption.READ)) {
            var head = java.nio.ByteBuffer.allocate(2);
            ch.read(head);
            return head.position() == 2 && (head.get(0) & 0xff) == 0x1f && (head.get(1) & 0xff) == 0x8b;
        }
    }

    /** The next line without its line break, or null at the end of the file. */
    String next() throws IOException {
        int n = 0;
        boolean any = false;
        while (true) {
            if (pos == limit) {
                limit = in.read(buf, 0, buf.length);
                pos = 0;
                if (limit <= 0) {
                    limit = 0;
                    if (!any) {
                        return null;
                    }
                    break;
                }
            }
            any = true;
            int start = pos;
            while (pos < limit && buf[pos] != '\n') {
                pos++;
            }
            int len = pos - start;
            if (n + len > line.length) {
                line = Arrays.copyOf(line, Math.max(line.length * 2, n + len));
            }
            System.arraycopy(buf, start, line, n, len);
            n += len;
            offset += len;
            if (pos < limit) {
                pos++;
                offset++;
                break;
            }
        }
        lineNumber++;
        int end = n > 0 && line[n - 1] == '\r' ? n - 1 : n;
        return new String(line, 0, end, StandardCharsets.UTF_8);
    }

    /** Offset of the next line in the decompressed stream. */
    long offset() {
        return offset;
    }

    /** Number of the line last returned (1-based). */
    long lineNumber() {
        return lineNumber;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
