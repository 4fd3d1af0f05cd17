using System.Text;
using Loom.Cli.Scoring;
using Parquet;
using Parquet.Schema;

namespace Loom.Cluster.Scoring;

/// <summary>
/// Joins the shards' part files, in shard (= input) order, into the output file, written beside it and
/// moved into place at the end like every `loom score` output. Parquet row groups are copied column by
/// column (the values are not re-derived), CSV bodies byte by byte after the first part's header.
/// </summary>
internal static class PartMerger
{
    public static void Merge(IReadOnlyList<string> parts, string output)
    {
        using var file = new AtomicFile(output);
        if (ShardPlanner.IsParquet(output)) MergeParquet(parts, file.TempPath).GetAwaiter().GetResult();
        else MergeCsv(parts, file.TempPath);
        file.Commit();
    }

    private static void MergeCsv(IReadOnlyList<string> parts, string target)
    {
        using var o = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        bool header = false;
        foreach (var part in parts)
        {
            using var i = new FileStream(part, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            long bodyStart = ShardPlanner.NextLineStart(i, 0);
            i.Position = header ? bodyStart : 0;
            if (i.Length > bodyStart || !header) { i.CopyTo(o); header = true; }
        }
        if (!header) o.Write(Encoding.UTF8.GetBytes("prediction\n"));
    }

    private static async Task MergeParquet(IReadOnlyList<string> parts, string target)
    {
        await using var o = new FileStream(target, FileMode.CreateNew, FileAccess.ReadWrite);
        ParquetWriter? writer = null;
        DataField[] outFields = [];
        try
        {
            foreach (var part in parts)
            {
                await using var i = File.OpenRead(part);
                await using var reader = await ParquetReader.CreateAsync(i);
                var fields = reader.Schema.GetDataFields();
                if (writer is null)
                {
                    outFields = fields;
                    writer = await ParquetWriter.CreateAsync(reader.Schema, o);
                }
                else if (!fields.Select(f => (f.Name, f.ClrType)).SequenceEqual(outFields.Select(f => (f.Name, f.ClrType))))
                    throw new ShardException($"{part}: its columns differ from the first part's ({string.Join(", ", outFields.Select(f => f.Name))})");
                for (int g = 0; g < reader.RowGroupCount; g++)
                {
                    using var rg = reader.OpenRowGroupReader(g);
                    int rows = checked((int)rg.RowCount);
                    if (rows == 0) continue;
                    using var wg = writer.CreateRowGroup();
                    for (int c = 0; c < fields.Length; c++) await CopyColumn(rg, fields[c], wg, outFields[c], rows);
                }
            }
        }
        finally
        {
            if (writer is not null) await writer.DisposeAsync();
        }
        if (writer is null) throw new ShardException("no part files to merge");
    }

    private static async Task CopyColumn(ParquetRowGroupReader rg, DataField from, ParquetRowGroupWriter wg, DataField to, int rows)
    {
        var t = from.ClrType;
        if (t == typeof(float)) await Copy<float>();
        else if (t == typeof(long)) await Copy<long>();
        else if (t == typeof(double)) await Copy<double>();
        else if (t == typeof(int)) await Copy<int>();
        else if (t == typeof(string))
        {
            var v = new string?[rows];
            await rg.ReadAsync(from, v.AsMemory(), null, default);
            await wg.WriteAsync(to, v!, null);
        }
        else throw new UnsupportedException($"column '{from.Name}' of type {t.Name} in a part file");

        async Task Copy<T>() where T : struct
        {
            if (from.IsNullable)
            {
                var v = new T?[rows];
                await rg.ReadAsync<T>(from, v.AsMemory(), null, default);
                await wg.WriteAsync<T>(to, v, null, null, default);
            }
            else
            {
                var v = new T[rows];
                await rg.ReadAsync<T>(from, v.AsMemory(), null, default);
                await wg.WriteAsync<T>(to, v, null, null, default);
            }
        }
    }
}
