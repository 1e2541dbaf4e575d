package io.cohx.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One HTTP exchange over Jetty's core API, used from the request's own virtual thread: the
 * request body read as JSON within a size limit, responses written and flushed in place (a
 * blocking write returns once the bytes are with the connection), and server-sent events.
 */
final class Http {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Request bodies past this are refused with 413 (a prompt cannot be longer than the context anyway). */
    static final int MAX_BODY = 16 << 20;
    /**
     * After a 413, at most this much of the body is read and thrown away, so that a client still
     * sending gets the answer instead of a reset connection; past it the connection is closed.
     */
    static final long DRAIN_LIMIT = 256L << 20;

    final Request request;
    final Response response;

    Http(Request request, Response response) {
        this.request = request;
        this.response = response;
    }

    String method() {
        return request.getMethod();
    }

    String path() {
        return Request.getPathInContext(request);
    }

    void header(String name, String value) {
        response.getHeaders().put(name, value);
    }

    /** The body as a JSON object's fields; {@link TooLarge} (413) past {@link #MAX_BODY}, known before reading when the length is sent. */
    Fields body() throws IOException {
        long declared = request.getHeaders().getLongField(HttpHeader.CONTENT_LENGTH);
        if (declared > MAX_BODY) {
            throw new TooLarge(declared);
        }
        byte[] bytes;
        try (InputStream in = Request.asInputStream(request)) {
            bytes = in.readNBytes(MAX_BODY + 1);
        }
        if (bytes.length > MAX_BODY) {
            throw new TooLarge(-1);
        }
        JsonNode n;
        try {
            n = JSON.readTree(bytes);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new BadRequest(null, "the request body is not valid JSON: " + e.getOriginalMessage());
        }
        if (n == null || n.isMissingNode()) {
            throw new BadRequest(null, "the request body is empty; send a JSON object");
        }
        return new Fields(n);
    }

    /** A request body over {@link #MAX_BODY}: answered 413. {@code length} is the declared length, or -1 when it was chunked. */
    static final class TooLarge extends RuntimeException {
        TooLarge(long length) {
            super("the request body" + (length >= 0 ? " (" + length + " bytes)" : "") + " is larger than the " + (MAX_BODY >> 20)
                    + " MiB the server accepts; send shorter prompts");
        }
    }

    /**
     * Reads and discards what is left of the request body (up to {@link #DRAIN_LIMIT}), after the
     * answer went out; returns false when more was left, so the connection must be closed.
     */
    boolean drainBody() {
        try (InputStream in = Request.asInputStream(request)) {
            byte[] buf = new byte[64 << 10];
            long total = 0;
            for (int n; (n = in.read(buf)) >= 0; ) {
                total += n;
                if (total > DRAIN_LIMIT) {
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    void send(int status, String contentType, byte[] body) throws IOException {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, Integer.toString(body.length));
        Content.Sink.write(response, true, ByteBuffer.wrap(body));
    }

    void json(int status, Object value) throws IOException {
        send(status, "application/json", JSON.writeValueAsBytes(value));
    }

    /** The error shape of the OpenAI API, which the original endpoints use too: {"error": {"message", "type", "param"}}. */
    static ObjectNode error(String message, String type, String param) {
        ObjectNode e = JSON.createObjectNode();
        ObjectNode inner = e.putObject("error");
        inner.put("message", message);
        inner.put("type", type);
        if (param == null) {
            inner.putNull("param");
        } else {
            inner.put("param", param);
        }
        return e;
    }

    /** Starts a server-sent event stream on this exchange. */
    EventStream events() {
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        return new EventStream(response);
    }

    /** {@code data: <json>} events, each written and flushed to the client as it is sent (chunked). */
    static final class EventStream {
        private final Response response;

        private EventStream(Response response) {
            this.response = response;
        }

        void send(Object data) throws IOException {
            sendRaw(data instanceof String s ? s : JSON.writeValueAsString(data));
        }

        void sendRaw(String data) throws IOException {
            Content.Sink.write(response, false, ByteBuffer.wrap(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8)));
        }

        /** Ends the stream (the last, empty chunk). */
        void close() throws IOException {
            Content.Sink.write(response, true, ByteBuffer.allocate(0));
        }
    }
}
