package io.cohx.engine.dist;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * The coordinator's protocol over TCP: the client opens with {@link #MAGIC} and {@link #VERSION}
 * (so a stray connection gets a clear refusal), then sends requests, each an opcode and its
 * fields; every request gets a status byte, then a message (non-OK) or the payload. Strings and
 * byte arrays are an int length and the bytes. One session connection per process carries
 * HELLO, then heartbeats; every other request uses a short connection of its own, so blocking
 * gets from the plugin's many threads never queue behind each other.
 */
final class Wire {
    static final int MAGIC = 0x434f4858; // "COHX"
    static final int VERSION = 1;

    static final byte HELLO = 1, HEARTBEAT = 2, PUT = 3, GET = 4, TRY_GET = 5, BARRIER = 6, GOODBYE = 7;
    static final byte OK = 0, NOT_FOUND = 1, TIMEOUT = 2, FAILED = 3;

    /** Largest key or value accepted (topology blobs are kilobytes; this bounds a bad peer). */
    static final int MAX_BYTES = 64 << 20;

    final Socket socket;
    final DataInputStream in;
    final DataOutputStream out;

    Wire(Socket socket) throws IOException {
        this.socket = socket;
        socket.setTcpNoDelay(true);
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
        this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
    }

    void writeBytes(byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    byte[] readBytes() throws IOException {
        int n = in.readInt();
        if (n < 0 || n > MAX_BYTES) {
            throw new IOException("bad length " + n + " from " + socket.getRemoteSocketAddress() + " (not a cohx coordinator peer?)");
        }
        return in.readNBytes(n);
    }

    void writeString(String s) throws IOException {
        writeBytes(s.getBytes(StandardCharsets.UTF_8));
    }

    String readString() throws IOException {
        return new String(readBytes(), StandardCharsets.UTF_8);
    }

    void reply(byte status, String message) throws IOException {
        out.writeByte(status);
        writeString(message);
        out.flush();
    }

    void replyOk(byte[] payload) throws IOException {
        out.writeByte(OK);
        writeBytes(payload);
        out.flush();
    }

    void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // closing a socket that failed already
        }
    }
}
