/**
 * Evaluation: likelihood and generation benchmarks, summary scoring and the report
 * ({@code io.cohx.eval}), and the pairwise human evaluation server with its vote store
 * ({@code io.cohx.eval.human}).
 */
module io.cohx.eval {
    // EvalModel hands out the model, its tokenizer and client; coh and serve stay behind the API.
    requires transitive io.cohx.models;
    requires io.cohx.coh;
    requires io.cohx.serve;
    // JsonLines hands out JsonNode.
    requires transitive com.fasterxml.jackson.databind;
    requires org.eclipse.jetty.server;
    requires java.sql;
    // The JDBC driver of the vote store, which DriverManager finds as a service.
    requires org.xerial.sqlitejdbc;

    exports io.cohx.eval;
    exports io.cohx.eval.human;

    // Estimate, a record, is turned into JSON by Jackson (the human-evaluation results page).
    opens io.cohx.eval to com.fasterxml.jackson.databind;
}
