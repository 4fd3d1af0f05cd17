using Loom.Cluster.Jobs;
using Parquet;

namespace Loom.Cluster.Scoring;

/// <summary>
/// Splits an input file into shards that can be read independently: one per Parquet row group (the unit
/// Parquet stores and compresses, so no shard re-reads another's bytes), or CSV byte ranges cut just after
/// a newline (quoted fields never span lines, so every range holds whole rows).
/// </summary>
public static class ShardPlanner
{
    public static bool IsParquet(string path) => Path.GetExtension(path).Equals(".parquet", StringComparison.OrdinalIgnoreCase);

    public static List<ShardPlan> Plan(string input, long targetCsvShardBytes)
    {
        if (!File.Exists(input)) throw new InputException($"{input}: no such file");
        return IsParquet(input) ? PlanParquet(input) : PlanCsv(input, targetCsvShardBytes);
    }

    private static List<ShardPlan> PlanParquet(string input)
    {
        try
        {
            using var stream = File.OpenRead(input);
            var reader = ParquetReader.CreateAsync(stream, null, false, default).GetAwaiter().GetResult();
            try
            {
                var groups = reader.Metadata?.RowGroups ?? [];
                return groups.Select((g, i) => new ShardPlan { Index = i, Start = i, End = i + 1, Rows = g.NumRows }).ToList();
            }
            finally { reader.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        }
        catch (Exception e) when (e is not LoomException) { throw new InputException($"{input}: not a readable Parquet file: {e.Message}"); }
    }

    private static List<ShardPlan> PlanCsv(string input, long target)
    {
        using var f = File.OpenRead(input);
        long headerEnd = NextLineStart(f, 0);
        var cuts = new List<long> { headerEnd };
        for (long at = headerEnd + target; at < f.Length; at += target)
        {
            long cut = NextLineStart(f, at);
            if (cut > cuts[^1] && cut < f.Length) cuts.Add(cut);
        }
        cuts.Add(f.Length);
        var shards = new List<ShardPlan>();
        for (int i = 0; i + 1 < cuts.Count; i++)
            if (cuts[i + 1] > cuts[i]) shards.Add(new ShardPlan { Index = shards.Count, Start = cuts[i], End = cuts[i + 1] });
        return shards;
    }

    /// <summary>The offset just after the first '\n' at or after <paramref name="at"/>, or the file's end.</summary>
    public static long NextLineStart(Stream f, long at)
    {
        f.Position = at;
        var buffer = new byte[64 * 1024];
        while (true)
        {
            long basePos = f.Position;
            int n = f.Read(buffer);
            if (n == 0) return f.Length;
            int nl = buffer.AsSpan(0, n).IndexOf((byte)'\n');
            if (nl >= 0) return basePos + nl + 1;
        }
    }
}
