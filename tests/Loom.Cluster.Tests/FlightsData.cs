using Loom.Tests;
using Loom.Tests.Support;
using Loom.Tests.Trees;
using Parquet;
using Parquet.Schema;

namespace Loom.Cluster.Tests;

/// <summary>
/// A slice of the shared flights-3m.parquet (the first rows, rewritten in small row groups so a job has many
/// shards) and a LightGBM model of delay &gt; 15 min from distance trained on its first 50,000 rows.
/// </summary>
internal static class FlightsData
{
    public static async Task<(string Data, string Model)> Prepare(TempDir dir, int rows, int rowsPerGroup, int trees)
    {
        string source = SharedData.Require("data", "flights-3m.parquet");
        var (distance, delay) = await Read(source, rows);
        using (var booster = LightGbmNative.Train(distance[..50_000], delay[..50_000].Select(d => d > 15 ? 1f : 0f).ToArray(), 50_000, 1,
                   "objective=binary num_leaves=63 learning_rate=0.05 verbose=-1 num_threads=1 seed=3", trees))
            File.WriteAllText(dir.File("flights.txt"), booster.ModelText());
        var fields = new[] { new DataField<float>("distance"), new DataField<float>("delay") };
        await using (var fs = File.Create(dir.File("flights.parquet")))
        await using (var w = await ParquetWriter.CreateAsync(new ParquetSchema(fields), fs))
            for (int start = 0; start < rows; start += rowsPerGroup)
            {
                int n = Math.Min(rowsPerGroup, rows - start);
                using var g = w.CreateRowGroup();
                await g.WriteAsync<float>(fields[0], distance.AsMemory(start, n), null, null, default);
                await g.WriteAsync<float>(fields[1], delay.AsMemory(start, n), null, null, default);
            }
        return (dir.File("flights.parquet"), dir.File("flights.txt"));
    }

    private static async Task<(float[] Distance, float[] Delay)> Read(string path, int rows)
    {
        await using var fs = File.OpenRead(path);
        await using var r = await ParquetReader.CreateAsync(fs);
        var fields = r.Schema.GetDataFields();
        var distance = new List<float>();
        var delay = new List<float>();
        for (int g = 0; g < r.RowGroupCount && distance.Count < rows; g++)
        {
            using var rg = r.OpenRowGroupReader(g);
            var d = new long?[rg.RowCount];
            var l = new long?[rg.RowCount];
            await rg.ReadAsync<long>(fields.First(f => f.Name == "distance"), d, null, default);
            await rg.ReadAsync<long>(fields.First(f => f.Name == "delay"), l, null, default);
            distance.AddRange(d.Select(v => v is { } x ? x : float.NaN));
            delay.AddRange(l.Select(v => v is { } x ? x : float.NaN));
        }
        return (distance.Take(rows).ToArray(), delay.Take(rows).ToArray());
    }
}
