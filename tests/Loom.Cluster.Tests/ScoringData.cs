using System.Globalization;
using System.Text;
using Loom.Tests.Support;
using Loom.Tests.Trees;
using Parquet;
using Parquet.Schema;

namespace Loom.Cluster.Tests;

/// <summary>Synthetic inputs (with NaNs) and a LightGBM model trained on them, plus readers for prediction files.</summary>
internal static class ScoringData
{
    public const int Cols = 6;
    public static string[] Names => Enumerable.Range(0, Cols).Select(i => $"Column_{i}").ToArray();

    public static float[] Rows(int rows, int seed, double nanRate = 0.03)
    {
        var rng = new Random(seed);
        var x = new float[rows * Cols];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextDouble() < nanRate ? float.NaN : (float)(rng.NextDouble() * 10 - 5);
        return x;
    }

    /// <summary>A regression model of 60 trees over <see cref="Cols"/> features, as LightGBM model text.</summary>
    public static string TrainModel(TempDir dir, int trees = 60)
    {
        // Trained without NaNs: LightGBM then writes no 'inf' thresholds, which Loom's importer does not read yet.
        var x = Rows(3000, 1, nanRate: 0);
        var y = new float[3000];
        for (int r = 0; r < 3000; r++) y[r] = (float)(Math.Sin(Nz(x[r * Cols])) * 3 + Nz(x[r * Cols + 1]) * Nz(x[r * Cols + 2]) - Nz(x[r * Cols + 3]));
        using var booster = LightGbmNative.Train(x, y, 3000, Cols, "objective=regression num_leaves=31 learning_rate=0.1 verbose=-1 num_threads=1 seed=1", trees);
        string path = dir.File("model.txt");
        File.WriteAllText(path, booster.ModelText());
        return path;
        static float Nz(float v) => float.IsNaN(v) ? 0 : v;
    }

    public static async Task WriteParquet(string path, float[] x, int rows, int rowsPerGroup)
    {
        var fields = Names.Select(n => new DataField<float>(n)).ToArray();
        await using var fs = File.Create(path);
        await using var w = await ParquetWriter.CreateAsync(new ParquetSchema(fields.Cast<Field>().ToArray()), fs);
        for (int start = 0; start < rows; start += rowsPerGroup)
        {
            int n = Math.Min(rowsPerGroup, rows - start);
            using var g = w.CreateRowGroup();
            for (int c = 0; c < Cols; c++)
            {
                var col = new float[n];
                for (int r = 0; r < n; r++) col[r] = x[(start + r) * Cols + c];
                await g.WriteAsync<float>(fields[c], col, null, null, default);
            }
        }
    }

    public static void WriteCsv(string path, float[] x, int rows)
    {
        var sb = new StringBuilder(string.Join(',', Names)).Append('\n');
        for (int r = 0; r < rows; r++)
            sb.AppendJoin(',', Enumerable.Range(0, Cols).Select(c => x[r * Cols + c] is var v && float.IsNaN(v) ? "" : v.ToString("R", CultureInfo.InvariantCulture))).Append('\n');
        File.WriteAllText(path, sb.ToString());
    }

    /// <summary>Every column of a prediction file, as (name, values) — Parquet or CSV.</summary>
    public static async Task<List<(string Name, float[] Values)>> ReadPredictions(string path)
    {
        if (path.EndsWith(".csv", StringComparison.Ordinal))
        {
            var lines = File.ReadAllLines(path);
            var names = lines[0].Split(',');
            return names.Select((n, c) => (n, lines.Skip(1).Select(l => float.Parse(l.Split(',')[c], CultureInfo.InvariantCulture)).ToArray())).ToList();
        }
        await using var fs = File.OpenRead(path);
        await using var r = await ParquetReader.CreateAsync(fs);
        var result = r.Schema.GetDataFields().Select(f => (f.Name, new List<float>())).ToList();
        for (int g = 0; g < r.RowGroupCount; g++)
        {
            using var rg = r.OpenRowGroupReader(g);
            var fields = r.Schema.GetDataFields();
            for (int c = 0; c < fields.Length; c++)
            {
                var v = new float[rg.RowCount];
                await rg.ReadAsync<float>(fields[c], v, null, default);
                result[c].Item2.AddRange(v);
            }
        }
        return result.Select(c => (c.Name, c.Item2.ToArray())).ToList();
    }

    /// <summary>Asserts two prediction files hold the same columns and bit-identical values, row by row.</summary>
    public static async Task AssertSamePredictions(string expected, string actual)
    {
        var e = await ReadPredictions(expected);
        var a = await ReadPredictions(actual);
        Assert.Equal(e.Select(c => c.Name), a.Select(c => c.Name));
        for (int c = 0; c < e.Count; c++)
        {
            Assert.Equal(e[c].Values.Length, a[c].Values.Length);
            for (int r = 0; r < e[c].Values.Length; r++)
                if (BitConverter.SingleToInt32Bits(e[c].Values[r]) != BitConverter.SingleToInt32Bits(a[c].Values[r]))
                    Assert.Fail($"column {e[c].Name} row {r}: single machine {e[c].Values[r]:R}, cluster {a[c].Values[r]:R}");
        }
    }

    /// <summary>The oracle: single-machine `loom score` as a process.</summary>
    public static void ScoreSingleMachine(string model, string data, string output)
    {
        var (exit, _, err) = CliRunner.Run("score", model, data, "--out", output, "--no-progress");
        Assert.True(exit == 0, err);
    }
}
