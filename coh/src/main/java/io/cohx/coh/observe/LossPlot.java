package io.cohx.coh.observe;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Draws the loss curves of a run (from its {@code metrics.jsonl}) into a PNG with XChart: one
 * series per split and loss (train hf_loss, train pt_loss, eval hf_loss...), step on x, loss on
 * y. Train series are lines; eval series, a point per evaluation, are lines with a marker on
 * each evaluation. Works headless. The PNG is written to a temp name and renamed.
 */
public final class LossPlot {
    private LossPlot() {}

    static final int WIDTH = 900;
    static final int HEIGHT = 540;

    /** Matplotlib's first colours, so the plot looks like the reference trainer's. */
    static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
            new Color(0xd62728), new Color(0x9467bd), new Color(0x8c564b)};

    /** Series to draw: every metric whose name ends in "loss", per split, as (step, value) points. */
    public static Map<String, List<double[]>> series(List<MetricsLog.Record> records) {
        var out = new LinkedHashMap<String, List<double[]>>();
        for (var r : records) {
            for (var e : r.values().entrySet()) {
                if (e.getKey().endsWith("loss") && e.getValue() instanceof Number n && Double.isFinite(n.doubleValue())) {
                    out.computeIfAbsent(r.split() + " " + e.getKey(), k -> new ArrayList<>()).add(new double[] {r.step(), n.doubleValue()});
                }
            }
        }
        return out;
    }

    /** The chart of {@code series} ({@link #series}); not yet drawn. */
    static XYChart chart(Map<String, List<double[]>> series, String title) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("step").yAxisTitle("loss").build();
        var style = chart.getStyler();
        style.setLegendPosition(Styler.LegendPosition.OutsideE);
        style.setChartBackgroundColor(Color.WHITE);
        style.setPlotBackgroundColor(Color.WHITE);
        style.setSeriesColors(COLORS);
        style.setMarkerSize(7);
        chart.setCustomXAxisTickLabelsFormatter(LossPlot::stepLabel);
        for (var e : series.entrySet()) {
            List<double[]> pts = e.getValue();
            double[] x = new double[pts.size()];
            double[] y = new double[pts.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = pts.get(i)[0];
                y[i] = pts.get(i)[1];
            }
            XYSeries s = chart.addSeries(e.getKey(), x, y);
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
            // Evaluations are sparse: mark each. A lone point needs a marker to be seen at all.
            s.setMarker(e.getKey().startsWith("eval ") || x.length == 1 ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
        }
        return chart;
    }

    /**
     * The label of an x tick: steps are whole numbers, so a tick that falls between two steps
     * (the axis of a 4-step run ticks every half step) gets none rather than a rounded repeat.
     */
    static String stepLabel(Double x) {
        return x == Math.rint(x) ? Long.toString(x.longValue()) : "";
    }

    /** Renders {@code metrics} (a metrics.jsonl) to {@code png}; returns the number of series drawn. */
    public static int write(Path metrics, Path png, String title) throws IOException {
        var series = series(MetricsLog.read(metrics));
        if (series.isEmpty()) {
            throw new IOException(metrics + " has no loss values to plot yet");
        }
        XYChart chart = chart(series, title);
        Path tmp = png.resolveSibling(png.getFileName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
        }
        Files.move(tmp, png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return series.size();
    }
}
