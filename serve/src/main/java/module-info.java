/**
 * The HTTP server of a model (the original's chat page and JSON endpoints, and the OpenAI-style
 * API) on Jetty. {@code LmServer} and its options are the whole API.
 */
module io.cohx.serve {
    requires transitive io.cohx.models;
    requires com.fasterxml.jackson.databind;
    requires org.eclipse.jetty.server;

    exports io.cohx.serve;
}
