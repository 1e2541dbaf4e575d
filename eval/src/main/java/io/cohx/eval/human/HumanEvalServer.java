package io.cohx.eval.human;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohx.eval.EvalException;
import io.cohx.eval.Estimate;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * The pairwise human-evaluation page and its JSON API, on Jetty 12 (core handlers, virtual
 * threads). {@code GET /} is the rating page; {@code GET /api/next?rater=R} gives the rater's
 * next unrated item with the two answers in the rater's blinded order; {@code POST /api/vote}
 * {@code {"rater", "item", "choice": "first"|"tie"|"second"}} stores a vote;
 * {@code GET /results} (HTML), {@code /api/results} (JSON), {@code /results.csv} and
 * {@code /votes.csv} show the tallies. Errors are {@code {"error": "..."}} with 400 (malformed
 * request), 404 (unknown item) or 409 (second vote on an item).
 */
public final class HumanEvalServer implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    private final VoteStore store;
    private final Server server;
    private final ServerConnector connector;
    private final byte[] page;

    private HumanEvalServer(VoteStore store, String host, int port) {
        this.store = store;
        try (InputStream in = HumanEvalServer.class.getResourceAsStream("human.html")) {
            this.page = in.readAllBytes();
        } catch (IOException | NullPointerException e) {
            throw new EvalException("the page human.html is missing from the cohx jar; rebuild cohx", e);
        }
        var threads = new QueuedThreadPool();
        threads.setName("cohx-human");
        threads.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        this.server = new Server(threads);
        this.connector = new ServerConnector(server);
        connector.setHost(host);
        connector.setPort(port);
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                serve(request, response, callback);
                return true;
            }
        });
    }

    /** Serves {@code store} on {@code host:port} (port 0: any free port). */
    public static HumanEvalServer start(VoteStore store, String host, int port) {
        var s = new HumanEvalServer(store, host, port);
        try {
            s.server.start();
        } catch (Exception e) {
            throw new EvalException("cannot listen on " + host + ":" + port + ": " + e.getMessage() + " (another server there? pass --port)", e);
        }
        return s;
    }

    public URI uri() {
        return URI.create("http://" + connector.getHost() + ":" + connector.getLocalPort() + "/");
    }

    /** Blocks until the server stops. */
    public void join() throws InterruptedException {
        server.join();
    }

    private void serve(Request request, Response response, Callback callback) {
        String path = Request.getPathInContext(request);
        String method = request.getMethod();
        try {
            switch (path) {
                case "/", "/index.html" -> send(response, callback, 200, "text/html; charset=utf-8", page);
                case "/api/next" -> json(response, callback, 200, next(Request.extractQueryParameters(request)));
                case "/api/vote" -> {
                    if (!method.equals("POST")) {
                        throw new VoteStore.Rejected(405, "use POST for /api/vote");
                    }
                    json(response, callback, 200, vote(Content.Source.asString(request, StandardCharsets.UTF_8)));
                }
                case "/api/results" -> json(response, callback, 200, results());
                case "/results" -> send(response, callback, 200, "text/html; charset=utf-8", resultsPage().getBytes(StandardCharsets.UTF_8));
                case "/results.csv" -> send(response, callback, 200, "text/csv; charset=utf-8",
                        HumanResults.of(store).csv().getBytes(StandardCharsets.UTF_8));
                case "/votes.csv" -> send(response, callback, 200, "text/csv; charset=utf-8",
                        HumanResults.votesCsv(store).getBytes(StandardCharsets.UTF_8));
                default -> throw new VoteStore.Rejected(404, "no page " + path + "; the rating page is /");
            }
        } catch (VoteStore.Rejected e) {
            json(response, callback, e.status(), Map.of("error", e.getMessage()));
        } catch (EvalException e) {
            json(response, callback, 500, Map.of("error", e.getMessage()));
        } catch (IOException | RuntimeException e) {
            json(response, callback, 500, Map.of("error", e.getClass().getSimpleName() + ": " + e.getMessage()));
        }
    }

    private ObjectNode next(Fields query) {
        String rater = query.getValue("rater");
        VoteStore.checkRater(rater);
        ObjectNode out = JSON.createObjectNode();
        out.put("total", store.itemCount());
        out.put("voted", store.votedBy(rater));
        int id = store.nextFor(rater);
        out.put("done", id < 0);
        if (id >= 0) {
            HumanItems.Item it = store.item(id);
            boolean aFirst = store.firstFor(rater, id).equals("a");
            out.put("item", id);
            out.put("prompt", it.prompt());
            out.put("first", aFirst ? it.outputA() : it.outputB());
            out.put("second", aFirst ? it.outputB() : it.outputA());
        }
        return out;
    }

    private ObjectNode vote(String body) {
        JsonNode n;
        try {
            n = JSON.readTree(body);
        } catch (IOException e) {
            throw new VoteStore.Rejected(400, "the body is not JSON: " + e.getMessage());
        }
        if (n == null || !n.isObject()) {
            throw new VoteStore.Rejected(400, "send a JSON object {\"rater\", \"item\", \"choice\"}");
        }
        JsonNode rater = n.get("rater");
        JsonNode item = n.get("item");
        JsonNode choice = n.get("choice");
        if (rater == null || !rater.isTextual()) {
            throw new VoteStore.Rejected(400, "'rater' must be a string");
        }
        if (item == null || !item.canConvertToInt() || !item.isIntegralNumber()) {
            throw new VoteStore.Rejected(400, "'item' must be an item number");
        }
        VoteStore.Choice c = switch (choice == null ? "" : choice.asText()) {
            case "first" -> VoteStore.Choice.FIRST;
            case "tie" -> VoteStore.Choice.TIE;
            case "second" -> VoteStore.Choice.SECOND;
            default -> throw new VoteStore.Rejected(400, "'choice' must be \"first\", \"tie\" or \"second\"");
        };
        store.vote(rater.textValue(), item.intValue(), c);
        return next(fieldsOf("rater", rater.textValue()));
    }

    private static Fields fieldsOf(String k, String v) {
        Fields f = new Fields();
        f.add(k, v);
        return f;
    }

    private ObjectNode results() {
        HumanResults r = HumanResults.of(store);
        ObjectNode out = JSON.createObjectNode();
        out.put("votes", r.votes());
        out.put("interval", "95% Wilson score interval");
        var rows = out.putArray("models");
        for (HumanResults.Row row : r.rows()) {
            ObjectNode o = rows.addObject();
            o.put("model", row.model());
            o.set("win", JSON.valueToTree(row.win()));
            o.set("tie", JSON.valueToTree(row.tie()));
            o.set("loss", JSON.valueToTree(row.loss()));
        }
        out.set("raters", JSON.valueToTree(r.perRater()));
        return out;
    }

    private String resultsPage() {
        HumanResults r = HumanResults.of(store);
        var sb = new StringBuilder("<!doctype html><html><head><meta charset=\"utf-8\"><title>cohx human evaluation: results</title>"
                + "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.3em .8em;border-bottom:1px solid #ccc;text-align:left}"
                + "</style></head><body><h1>Results</h1><p id=\"summary\">" + r.votes() + " votes from " + r.perRater().size()
                + " raters; 95% Wilson intervals.</p><table id=\"results\"><tr><th>model</th><th>win</th><th>tie</th><th>loss</th></tr>");
        for (HumanResults.Row row : r.rows()) {
            sb.append("<tr><td>").append(escape(row.model())).append("</td>");
            for (Estimate e : new Estimate[] {row.win(), row.tie(), row.loss()}) {
                sb.append("<td>").append(r.votes() == 0 ? "-" : escape(e.format(true))).append("</td>");
            }
            sb.append("</tr>");
        }
        sb.append("</table><h2>Raters</h2><table id=\"raters\"><tr><th>rater</th><th>votes</th></tr>");
        r.perRater().forEach((k, v) -> sb.append("<tr><td>").append(escape(k)).append("</td><td>").append(v).append("</td></tr>"));
        return sb.append("</table><p><a href=\"/results.csv\">results.csv</a> · <a href=\"/votes.csv\">votes.csv</a> ·"
                + " <a href=\"/\">rate</a></p></body></html>").toString();
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static void json(Response response, Callback callback, int status, Object body) {
        byte[] b;
        try {
            b = JSON.writeValueAsBytes(body);
        } catch (IOException e) {
            b = "{\"error\": \"cannot write the answer\"}".getBytes(StandardCharsets.UTF_8);
            status = 500;
        }
        send(response, callback, status, "application/json", b);
    }

    private static void send(Response response, Callback callback, int status, String type, byte[] body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.write(true, ByteBuffer.wrap(body), callback);
    }

    /** Stops the server; the votes are already on disk. */
    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            throw new EvalException("stopping the human-evaluation server: " + e.getMessage(), e);
        }
    }
}
