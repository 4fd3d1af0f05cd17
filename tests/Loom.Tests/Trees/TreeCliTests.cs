using System.Globalization;
using System.Text;
using Loom.Tests.Support;
using Microsoft.ML.OnnxRuntime;
using Parquet;
using Parquet.Schema;

namespace Loom.Tests.Trees;

/// <summary><c>loom convert</c> and <c>loom score</c> as processes, on LightGBM models trained here.</summary>
public class TreeCliTests
{
    private const int Cols = 8;

    private static (string Model, LightGbmNative Booster) Train(TempDir dir, string objective = "regression")
    {
        var (x, y) = TreeTestData.Make(1000, Cols, seed: 31, classes: objective == "binary" ? 2 : 0);
        var booster = LightGbmNative.Train(x, y, 1000, Cols, $"objective={objective} num_leaves=15 learning_rate=0.2 verbose=-1 num_threads=1 seed=1", 30);
        string path = dir.File("model.txt");
        File.WriteAllText(path, booster.ModelText());
        return (path, booster);
    }

    /// <summary>A CSV with a header of <paramref name="names"/> (columns in that order) for the rows.</summary>
    private static void WriteCsv(string path, float[] x, int rows, string[] names, int[] order)
    {
        var sb = new StringBuilder(string.Join(',', order.Select(c => names[c])) + "\n");
        for (int r = 0; r < rows; r++)
            sb.Append(string.Join(',', order.Select(c => float.IsNaN(x[r * Cols + c]) ? "" : x[r * Cols + c].ToString("R", CultureInfo.InvariantCulture)))).Append('\n');
        File.WriteAllText(path, sb.ToString());
    }

    private static double[] ReadCsvColumn(string path) =>
        File.ReadAllLines(path).Skip(1).Select(l => double.Parse(l.Split(',')[0], CultureInfo.InvariantCulture)).ToArray();

    private static string[] Names => Enumerable.Range(0, Cols).Select(i => $"Column_{i}").ToArray();

    [Fact]
    public void Score_csv_matches_lightgbm_and_batch_size_does_not_change_the_output()
    {
        using var dir = new TempDir();
        var (model, booster) = Train(dir);
        using var owned = booster;
        var (x, _) = TreeTestData.Make(5000, Cols, seed: 32);
        WriteCsv(dir.File("data.csv"), x, 5000, Names, [.. Enumerable.Range(0, Cols)]);
        var (exit, _, err) = CliRunner.Run("score", model, dir.File("data.csv"), "--out", dir.File("small.csv"), "--batch", "777", "--no-progress");
        Assert.True(exit == 0, err);
        Assert.Contains("scored 5,000 rows", err);
        (exit, _, err) = CliRunner.Run("score", model, dir.File("data.csv"), "--out", dir.File("one.csv"), "--batch", "1000000", "--no-progress");
        Assert.True(exit == 0, err);
        Assert.Equal(File.ReadAllBytes(dir.File("one.csv")), File.ReadAllBytes(dir.File("small.csv")));
        TreeTestData.AssertMatches(booster.Predict(x, 5000, Cols, 1), ReadCsvColumn(dir.File("one.csv")).Select(v => (float)v).ToArray(), "loom score");
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void Score_maps_columns_by_name_and_by_option()
    {
        using var dir = new TempDir();
        var (model, booster) = Train(dir);
        using var owned = booster;
        var (x, _) = TreeTestData.Make(300, Cols, seed: 33);
        var expected = booster.Predict(x, 300, Cols, 1);
        // Columns shuffled, plus an extra column; matched by name.
        var names = Names.Append("extra").ToArray();
        var xs = new float[300 * (Cols + 1)];
        for (int r = 0; r < 300; r++) { Array.Copy(x, r * Cols, xs, r * (Cols + 1), Cols); xs[r * (Cols + 1) + Cols] = 7; }
        var sb = new StringBuilder("extra," + string.Join(',', Names.Reverse()) + "\n");
        for (int r = 0; r < 300; r++)
            sb.Append("7,").Append(string.Join(',', Enumerable.Range(0, Cols).Reverse().Select(c => float.IsNaN(x[r * Cols + c]) ? "NaN" : x[r * Cols + c].ToString("R", CultureInfo.InvariantCulture)))).Append('\n');
        File.WriteAllText(dir.File("shuffled.csv"), sb.ToString());
        var (exit, _, err) = CliRunner.Run("score", model, dir.File("shuffled.csv"), "--out", dir.File("p.csv"), "--no-progress");
        Assert.True(exit == 0, err);
        TreeTestData.AssertMatches(expected, ReadCsvColumn(dir.File("p.csv")).Select(v => (float)v).ToArray(), "by name");
        // Renamed columns fed through --map.
        File.WriteAllText(dir.File("renamed.csv"), File.ReadAllText(dir.File("shuffled.csv")).Replace("Column_", "col"));
        var maps = Enumerable.Range(0, Cols).SelectMany(i => new[] { "--map", $"Column_{i}=col{i}" }).ToArray();
        (exit, _, err) = CliRunner.Run(["score", model, dir.File("renamed.csv"), "--out", dir.File("q.csv"), "--no-progress", .. maps]);
        Assert.True(exit == 0, err);
        Assert.Equal(File.ReadAllBytes(dir.File("p.csv")), File.ReadAllBytes(dir.File("q.csv")));
        (exit, _, err) = CliRunner.Run("score", model, dir.File("renamed.csv"), "--out", dir.File("r.csv"), "--no-progress");
        Assert.Equal(1, exit);
        Assert.Contains("--map Column_", err);
    }

    [Fact]
    public void Bad_row_stops_with_its_number_or_goes_to_the_reject_file()
    {
        using var dir = new TempDir();
        var (model, booster) = Train(dir);
        using var owned = booster;
        var (x, _) = TreeTestData.Make(100, Cols, seed: 34);
        WriteCsv(dir.File("data.csv"), x, 100, Names, [.. Enumerable.Range(0, Cols)]);
        var lines = File.ReadAllLines(dir.File("data.csv")).ToList();
        lines[42] = lines[42].Replace(lines[42].Split(',')[3], "oops"); // data row 42
        lines[60] += ",1"; // data row 60: one field too many
        File.WriteAllLines(dir.File("data.csv"), lines);
        var (exit, _, err) = CliRunner.Run("score", model, dir.File("data.csv"), "--out", dir.File("p.csv"), "--no-progress");
        Assert.Equal(1, exit);
        Assert.Contains("row 42", err);
        Assert.Contains("'oops' is not a number", err);
        Assert.False(File.Exists(dir.File("p.csv")));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));

        (exit, _, err) = CliRunner.Run("score", model, dir.File("data.csv"), "--out", dir.File("p.csv"), "--skip-bad-rows", "--no-progress");
        Assert.True(exit == 0, err);
        Assert.Equal(98, ReadCsvColumn(dir.File("p.csv")).Length);
        var rejects = File.ReadAllLines(dir.File("p.csv.rejects.csv"));
        Assert.Equal(3, rejects.Length);
        Assert.StartsWith("42,", rejects[1]);
        Assert.StartsWith("60,", rejects[2]);
        Assert.Contains("9 fields, expected 8", rejects[2]);
    }

    [Fact]
    public async Task Parquet_in_and_out()
    {
        using var dir = new TempDir();
        var (model, booster) = Train(dir, "binary");
        using var owned = booster;
        var (x, _) = TreeTestData.Make(2000, Cols, seed: 35);
        var fields = Names.Select(n => new DataField<double?>(n)).ToArray();
        await using (var fs = File.Create(dir.File("data.parquet")))
        await using (var w = await ParquetWriter.CreateAsync(new ParquetSchema(fields), fs, null, false, TestContext.Current.CancellationToken))
            for (int g = 0; g < 2; g++)
            {
                using var rg = w.CreateRowGroup();
                for (int c = 0; c < Cols; c++)
                {
                    var column = Enumerable.Range(g * 1000, 1000).Select(r => float.IsNaN(x[r * Cols + c]) ? (double?)null : x[r * Cols + c]).ToArray();
                    await rg.WriteAsync<double>(fields[c], column, null, null, TestContext.Current.CancellationToken);
                }
            }
        var (exit, _, err) = CliRunner.Run("score", model, dir.File("data.parquet"), "--out", dir.File("p.parquet"), "--batch", "300", "--no-progress");
        Assert.True(exit == 0, err);
        var got = await ReadFloats(dir.File("p.parquet"), int.MaxValue);
        TreeTestData.AssertMatches(booster.Predict(x, 2000, Cols, 1), got, "parquet");
    }

    [Fact]
    public void Convert_writes_onnx_ml_that_onnx_runtime_scores()
    {
        using var dir = new TempDir();
        var (model, booster) = Train(dir, "binary");
        using var owned = booster;
        var (exit, output, err) = CliRunner.Run("convert", model, "-o", dir.File("model.onnx"));
        Assert.True(exit == 0, err);
        Assert.Contains("TreeEnsembleRegressor", output);
        var (x, _) = TreeTestData.Make(200, Cols, seed: 36);
        var ort = OrtOracle.Run(File.ReadAllBytes(dir.File("model.onnx")), new Dictionary<string, Tensor> { ["features"] = Tensor.FromArray(x, 200, Cols) });
        TreeTestData.AssertMatches(booster.Predict(x, 200, Cols, 1), ort["predictions"].Data, "onnxruntime on the converted model", rel: 1e-4);
        (exit, _, err) = CliRunner.Run("convert", dir.File("missing.txt"), "-o", dir.File("m.onnx"));
        Assert.Equal(1, exit);
        Assert.Contains("missing.txt", err);
    }

    [Fact]
    public void Convert_lower_writes_plain_onnx_and_inspect_shows_it()
    {
        using var dir = new TempDir();
        var (model, booster) = Train(dir, "binary");
        using var owned = booster;
        var (exit, output, err) = CliRunner.Run("convert", model, "-o", dir.File("ptt.onnx"), "--lower", "perfect-tree-traversal");
        Assert.True(exit == 0, err);
        Assert.Contains("lowered to PerfectTreeTraversal", err);
        Assert.DoesNotContain("ai.onnx.ml", output);
        var (x, _) = TreeTestData.Make(200, Cols, seed: 37);
        var ort = OrtOracle.Run(File.ReadAllBytes(dir.File("ptt.onnx")), new Dictionary<string, Tensor> { ["features"] = Tensor.FromArray(x, 200, Cols) });
        TreeTestData.AssertMatches(booster.Predict(x, 200, Cols, 1), ort["predictions"].Data, "onnxruntime on the lowered model");

        (exit, output, err) = CliRunner.Run("inspect", model, "--ir", "--lower", "tree-traversal");
        Assert.True(exit == 0, err);
        Assert.Contains("GatherElements", output);
        Assert.DoesNotContain("TreeEnsembleRegressor", output);
        (exit, _, err) = CliRunner.Run("convert", model, "-o", dir.File("x.onnx"), "--lower", "interleaved");
        Assert.Equal(1, exit);
        Assert.Contains("--lower 'interleaved' must be one of", err);
    }

    [Fact]
    public async Task Score_real_flights_data()
    {
        string data = SharedData.Require("data", "flights-3m.parquet");
        using var dir = new TempDir();
        // A model of delay > 15 min from distance, trained here on the first 50,000 flights.
        var (distance, delay) = await ReadFlights(data, 50_000);
        using var booster = LightGbmNative.Train(distance, delay.Select(d => d > 15 ? 1f : 0f).ToArray(), distance.Length, 1, "objective=binary num_leaves=31 verbose=-1 num_threads=1", 20);
        File.WriteAllText(dir.File("flights.txt"), booster.ModelText());
        var (exit, _, err) = CliRunner.Run("score", dir.File("flights.txt"), data, "--out", dir.File("p.parquet"), "--map", "Column_0=distance", "--no-progress");
        Assert.True(exit == 0, err);
        Assert.Contains("scored 3,000,000 rows", err);
        var first = await ReadFloats(dir.File("p.parquet"), 300_000);
        var (head, _) = await ReadFlights(data, first.Length);
        TreeTestData.AssertMatches(booster.Predict(head, head.Length, 1, 1), first, "flights");
    }

    /// <summary>The first column of a Parquet file, at least <paramref name="rows"/> rows of it (whole row groups).</summary>
    private static async Task<float[]> ReadFloats(string path, int rows)
    {
        await using var fs = File.OpenRead(path);
        await using var r = await ParquetReader.CreateAsync(fs, null, false, TestContext.Current.CancellationToken);
        var got = new List<float>();
        for (int g = 0; g < r.RowGroupCount && got.Count < rows; g++)
        {
            using var rg = r.OpenRowGroupReader(g);
            var values = new float[rg.RowCount];
            await rg.ReadAsync<float>(r.Schema.GetDataFields()[0], values, null, TestContext.Current.CancellationToken);
            got.AddRange(values);
        }
        return got.ToArray();
    }

    private static async Task<(float[] Distance, float[] Delay)> ReadFlights(string path, int rows)
    {
        await using var fs = File.OpenRead(path);
        await using var r = await ParquetReader.CreateAsync(fs, null, false, TestContext.Current.CancellationToken);
        var fields = r.Schema.GetDataFields();
        var distance = new List<float>();
        var delay = new List<float>();
        for (int g = 0; g < r.RowGroupCount && distance.Count < rows; g++)
        {
            using var rg = r.OpenRowGroupReader(g);
            var d = new long?[rg.RowCount];
            var l = new long?[rg.RowCount];
            await rg.ReadAsync<long>(fields.First(f => f.Name == "distance"), d, null, TestContext.Current.CancellationToken);
            await rg.ReadAsync<long>(fields.First(f => f.Name == "delay"), l, null, TestContext.Current.CancellationToken);
            distance.AddRange(d.Select(v => v is { } x ? x : float.NaN));
            delay.AddRange(l.Select(v => v is { } x ? x : float.NaN));
        }
        return (distance.Take(rows).ToArray(), delay.Take(rows).ToArray());
    }
}
