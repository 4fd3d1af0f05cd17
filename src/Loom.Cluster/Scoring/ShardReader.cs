using Loom.Cli.Scoring;
using Loom.Cluster.Jobs;

namespace Loom.Cluster.Scoring;

/// <summary>Opens one shard with the same readers `loom score` uses, so a row parses the same way on one machine or many.</summary>
internal static class ShardReader
{
    public static IRowSource Open(string input, ShardPlan shard)
    {
        bool parquet = ShardPlanner.IsParquet(input);
        string name = $"{input} {shard.Describe(parquet)}";
        try
        {
            if (parquet) return new ParquetRowSource(input, (int)shard.Start, (int)(shard.End - shard.Start));
            // The header line, then the shard's bytes: CsvRowSource reads it like a small file.
            using var f = File.OpenRead(input);
            long headerEnd = ShardPlanner.NextLineStart(f, 0);
            var bytes = new byte[headerEnd + (shard.End - shard.Start)];
            f.Position = 0;
            f.ReadExactly(bytes, 0, (int)headerEnd);
            f.Position = shard.Start;
            f.ReadExactly(bytes, (int)headerEnd, (int)(shard.End - shard.Start));
            return new CsvRowSource(name, new MemoryStream(bytes, writable: false), skipBadRows: false);
        }
        catch (Exception e) when (e is not LoomException) { throw new ShardException($"{name}: cannot be read: {e.Message}", e); }
    }

    /// <summary>The input's column names (from the whole file's header or schema).</summary>
    public static IReadOnlyList<string> Columns(string input)
    {
        using IRowSource s = ShardPlanner.IsParquet(input) ? new ParquetRowSource(input, 0, 0) : new CsvRowSource(input, false);
        return s.Columns;
    }
}
