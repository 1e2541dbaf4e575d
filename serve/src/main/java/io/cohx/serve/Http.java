package io.cohx.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** Small helpers over the JDK's {@link HttpExchange}: JSON in and out, errors, and server-sent events. */
final class Http {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Request bodies past this are refused (a prompt can't be longer than the context anyway). */
    static final int MAX_BODY = 16 << 20;

    private Http() {}

    static Fields body(HttpExchange ex) throws IOException {
        byte[] bytes;
        try (InputStream in = ex.getRequestBody()) {
            bytes = in.readNBytes(MAX_BODY + 1);
        }
        if (bytes.length > MAX_BODY) {
            throw new BadRequest(null, "the request body is larger than " + (MAX_BODY >> 20) + " MiB");
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

    static void send(HttpExchange ex, int status, String contentType, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", contentType);
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    static void json(HttpExchange ex, int status, Object value) throws IOException {
        send(ex, status, "application/json", JSON.writeValueAsBytes(value));
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

    /** A server-sent event stream: {@code data: <json>} lines, each flushed at once. */
    static final class EventStream {
        private final OutputStream out;

        EventStream(HttpExchange ex) throws IOException {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
            ex.getResponseHeaders().set("Cache-Control", "no-cache");
            ex.sendResponseHeaders(200, 0);
            this.out = ex.getResponseBody();
        }

        void send(Object data) throws IOException {
            sendRaw(data instanceof String s ? s : JSON.writeValueAsString(data));
        }

        void sendRaw(String data) throws IOException {
            out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        void close() {
            try {
                out.close();
            } catch (IOException ignored) {
                // The client is gone; nothing left to tell it.
            }
        }
    }
}
