package io.cohx.coh.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Downloads a feedback dataset's original data files (JSON lines, gzip or not) from the Hugging
 * Face Hub by dataset name, into a local cache, and hands them to the readers as
 * {@link InputFile}s. It lists the repository with the Hub's tree API, keeps the files that hold
 * the comparisons (HH-RLHF: every {@code *.jsonl.gz} except the red-team attempts, which have
 * another format; summary: the {@code comparisons/} batches) and fetches each through the raw
 * "resolve" URL. The endpoint comes from {@code --hub-endpoint}, else {@code COHX_HF_ENDPOINT},
 * else {@code HF_ENDPOINT}, else the public Hub, so tests and mirrors can stand in for it;
 * {@code HF_TOKEN} is sent when set. Cached files are reused when their size matches the listing.
 */
public final class HubDatasets {

    /** The public Hub; used only when neither the flag nor the environment names another. */
    public static final String PUBLIC_ENDPOINT = "https://huggingface.co";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern NEXT_LINK = Pattern.compile("<([^>]+)>\\s*;\\s*rel=\"next\"");

    private final String endpoint;
    private final String revision;
    private final Path cacheDir;
    private final PrintStream log;
    /**
     * Made on the first download: an HTTP client starts a selector thread that sits in native
     * code, and the JVM waits about 300 ms for such threads when it exits, so a run that
     * downloads nothing (every dataset given with --input) must not have one.
     */
    private HttpClient http;

    public HubDatasets(String endpoint, String revision, Path cacheDir, PrintStream log) {
        this.endpoint = endpoint.endsWith("/") ? endpoint.substring(0, endpoint.length() - 1) : endpoint;
        this.revision = revision;
        this.cacheDir = cacheDir;
        this.log = log;
    }

    private synchronized HttpClient http() {
        if (http == null) {
            http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                    .connectTimeout(Duration.ofSeconds(20)).build();
        }
        return http;
    }

    /** The endpoint to use: the flag if given, else COHX_HF_ENDPOINT, else HF_ENDPOINT, else the public Hub. */
    public static String endpoint(String flag) {
        if (flag != null && !flag.isBlank()) {
            return flag;
        }
        for (String var : List.of("COHX_HF_ENDPOINT", "HF_ENDPOINT")) {
            String v = System.getenv(var);
            if (v != null && !v.isBlank()) {
                return v;
            }
        }
        return PUBLIC_ENDPOINT;
    }

    /** The cohx cache folder: COHX_CACHE_DIR, else $XDG_CACHE_HOME/cohx, else ~/.cache/cohx. */
    public static Path defaultCacheDir() {
        String dir = System.getenv("COHX_CACHE_DIR");
        if (dir != null && !dir.isBlank()) {
            return Path.of(dir);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("cohx");
    }

    /** Lists, selects and downloads (or finds cached) the data files of {@code dataset}. */
    public List<InputFile> fetch(FeedbackDataset dataset) {
        String repo = dataset.hubRepo();
        var listing = list(repo);
        var out = new ArrayList<InputFile>();
        var seen = new ArrayList<String>();
        for (JsonNode entry : listing) {
            String path = entry.path("path").asText();
            if (!"file".equals(entry.path("type").asText("file"))) {
                continue;
            }
            seen.add(path);
            if (!wanted(dataset, path)) {
                continue;
            }
            Path local = download(repo, path, entry.path("size").asLong(-1));
            Split split = Split.fromFileName(Path.of(path).getFileName().toString());
            if (split == null) {
                split = Split.fromFileName(path);
            }
            if (split == null && dataset == FeedbackDataset.WEBGPT) {
                split = Split.TRAIN;
            }
            if (split == null && dataset == FeedbackDataset.DIALOGUE) {
                continue;
            }
            out.add(new InputFile(local, split));
        }
        if (out.isEmpty()) {
            throw new DataException("the Hub repository " + repo + " at " + endpoint + " has no JSON-lines data files"
                    + " for " + dataset.cliName() + " (it lists: " + String.join(", ", seen.stream().limit(12).toList())
                    + "); download the original files yourself and pass --input " + dataset.cliName() + "=FOLDER");
        }
        return out;
    }

    static boolean wanted(FeedbackDataset dataset, String path) {
        String p = path.toLowerCase(Locale.ROOT);
        if (!InputFile.isDataFile(Path.of(p)) || p.endsWith("dataset_infos.json") || p.endsWith("dataset_info.json")) {
            return false;
        }
        return switch (dataset) {
            case DIALOGUE -> !p.startsWith("red-team-attempts/");
            case WEBGPT -> true;
            case SUMMARY -> p.startsWith("comparisons/") || p.contains("/comparisons/");
        };
    }

    private List<JsonNode> list(String repo) {
        var entries = new ArrayList<JsonNode>();
        String url = endpoint + "/api/datasets/" + repo + "/tree/" + enc(revision) + "?recursive=true";
        while (url != null) {
            HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(url)), HttpResponse.BodyHandlers.ofString(),
                    repo, url);
            JsonNode body;
            try {
                body = JSON.readTree(response.body());
            } catch (IOException e) {
                throw new DataException("the Hub at " + endpoint + " answered " + url + " with something that is not JSON: "
                        + e.getMessage());
            }
            if (!body.isArray()) {
                throw new DataException("the Hub at " + endpoint + " answered " + url + " with no file list");
            }
            body.forEach(entries::add);
            url = response.headers().firstValue("Link").map(HubDatasets::nextLink).orElse(null);
        }
        return entries;
    }

    static String nextLink(String header) {
        Matcher m = NEXT_LINK.matcher(header);
        return m.find() ? m.group(1) : null;
    }

    private Path download(String repo, String path, long size) {
        Path target = cacheDir.resolve("hub").resolve("datasets").resolve(repo).resolve(revision).resolve(path);
        try {
            if (Files.isRegularFile(target) && (size < 0 || Files.size(target) == size)) {
                log.println("hub: " + repo + "/" + path + " (cached)");
                return target;
            }
            Files.createDirectories(target.getParent());
            Path tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".part");
            try {
                String url = endpoint + "/datasets/" + repo + "/resolve/" + enc(revision) + "/" + path;
                log.println("hub: downloading " + repo + "/" + path);
                send(HttpRequest.newBuilder(URI.create(url)), HttpResponse.BodyHandlers.ofFile(tmp,
                        StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING), repo, url);
                if (size >= 0 && Files.size(tmp) != size) {
                    throw new DataException("download of " + url + " is " + Files.size(tmp) + " bytes, the listing says "
                            + size + "; run again (the partial file was removed)");
                }
                try (var ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return target;
        } catch (IOException e) {
            throw new DataException("cannot write the Hub cache " + target + ": " + e.getMessage(), e);
        }
    }

    private <T> HttpResponse<T> send(HttpRequest.Builder request, HttpResponse.BodyHandler<T> handler, String repo,
                                     String url) {
        request.timeout(Duration.ofMinutes(30)).header("User-Agent", "cohx");
        String token = System.getenv("HF_TOKEN");
        if (token != null && !token.isBlank()) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<T> response;
        try {
            response = http().send(request.build(), handler);
        } catch (IOException e) {
            throw new DataException("cannot reach the Hugging Face Hub at " + endpoint + " (" + e + "): check the network,"
                    + " point --hub-endpoint or COHX_HF_ENDPOINT at a mirror, or pass local files with --input", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DataException("interrupted while downloading " + url, e);
        }
        int code = response.statusCode();
        if (code == 401 || code == 403) {
            throw new DataException("the Hub refused " + url + " (HTTP " + code + "): set HF_TOKEN to a token that may read "
                    + repo);
        }
        if (code == 404) {
            throw new DataException("the Hub at " + endpoint + " has no " + url + " (HTTP 404): check the dataset name "
                    + repo + " and revision '" + revision + "'");
        }
        if (code / 100 != 2) {
            throw new DataException("the Hub answered " + url + " with HTTP " + code);
        }
        return response;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
